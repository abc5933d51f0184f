import { computed, signal } from '@preact/signals';
import type { MethodInput, MethodName, MethodResult, SessionInfo } from '../../main/shared/api.js';
import { gateway, isGatewayError } from '../client/index.js';

export type SignedOutReason = 'expired' | 'logged-out' | 'password-changed';

export type SessionPhase =
  | { phase: 'loading' }
  | { phase: 'unreachable'; message: string }
  | { phase: 'first-run'; where: string; codeExpiresAt: string | null; code: string | undefined }
  | { phase: 'login'; reason?: SignedOutReason }
  | { phase: 'ready'; info: SessionInfo };

export const session = signal<SessionPhase>({ phase: 'loading' });

export const signedIn = computed(() => {
  const current = session.value;
  return current.phase === 'ready' ? current.info : undefined;
});

export const isAdmin = computed(() => signedIn.value?.role === 'admin');

/** Finds out whether the box needs its first admin, a login, or already has a session (cookie or trusted window). */
export async function boot(): Promise<void> {
  try {
    const setup = await gateway.call('setupState', {});
    if (setup.needsSetup) {
      session.value = { phase: 'first-run', where: setup.where, codeExpiresAt: setup.codeExpiresAt, code: setup.code };
      return;
    }
  } catch (error) {
    session.value = { phase: 'unreachable', message: error instanceof Error ? error.message : String(error) };
    return;
  }
  try {
    signIn(await gateway.call('session', {}));
  } catch (error) {
    if (!isGatewayError(error, 'unauthorized')) throw error;
    session.value = { phase: 'login' };
  }
}

export function signIn(info: SessionInfo): void {
  lastActivity.value = Date.now();
  idleWindowMs.value = Math.max(0, Date.parse(info.idleExpiresAt) - Date.now());
  session.value = { phase: 'ready', info };
}

export function signOut(reason: SignedOutReason): void {
  session.value = { phase: 'login', reason };
}

/** When the session ends if nothing happens: the server moves the idle expiry on every request. */
const idleWindowMs = signal(0);
const lastActivity = signal(Date.now());
export const sessionEndsAt = computed(() => {
  const info = signedIn.value;
  if (!info) return undefined;
  return Math.min(lastActivity.value + idleWindowMs.value, Date.parse(info.expiresAt));
});

/**
 * Every screen calls the gateway through here: a 401 while signed in means the session ended on the
 * server (idle or absolute expiry, or a password change elsewhere), so the login screen explains it.
 */
export async function call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodResult<M>> {
  try {
    const result = await gateway.call(method, input);
    lastActivity.value = Date.now();
    return result;
  } catch (error) {
    if (isGatewayError(error, 'unauthorized') && session.value.phase === 'ready') signOut('expired');
    throw error;
  }
}
