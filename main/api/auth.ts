import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Counter } from 'prom-client';
import { ensurePrivateDir, writePrivateFile } from '../identity/secure-files.js';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import { ApiError, type MethodResult, type ParsedInput, type SessionInfo } from '../shared/api.js';
import { AccountStore } from './accounts.js';
import { LoginThrottle, type ThrottlePolicy } from './login-throttle.js';
import { checkNewPassword } from './passwords.js';
import { SessionStore, type Session, type SessionLimits } from './sessions.js';
import { SetupCode } from './setup-code.js';
import { createTokenCheck } from './token.js';

/** Read by `fieldgate status` on the box (as root or the service user) to call GET /api/status. */
export const STATUS_TOKEN_FILE = 'status-token';

export type AuthFailureReason = 'unknown-user' | 'wrong-password' | 'locked' | 'wrong-setup-code' | 'no-session' | 'bad-token' | 'forbidden';

/**
 * The failures that are guesses at a credential. `no-session` (a page left open past its session)
 * and `forbidden` (a technician's click on an admin action) are not: they must not look like an attack.
 */
export const CREDENTIAL_GUESSES: readonly AuthFailureReason[] = ['unknown-user', 'wrong-password', 'locked', 'wrong-setup-code', 'bad-token'];

export interface AuthDeps {
  /** `<gateway.dataDir>/api`: accounts.json and setup-code, both 0600. */
  dir: string;
  limits: SessionLimits;
  metrics: Registry;
  log: Logger;
  now: () => number;
  throttle?: ThrottlePolicy;
}

/**
 * Accounts, sessions, the setup code and login throttling: everything the session methods do,
 * shared by HTTP and IPC and kept across API server restarts (a ui config change).
 */
export class Auth {
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  readonly setupCode: SetupCode;
  private readonly throttle: LoginThrottle;
  private readonly failures: Counter<'reason'>;
  private localTokenMatches: ((presented: string | undefined) => boolean) | undefined;

  constructor(private readonly deps: AuthDeps) {
    this.accounts = new AccountStore({ dir: deps.dir, now: deps.now });
    this.sessions = new SessionStore({ limits: deps.limits, now: deps.now });
    this.setupCode = new SetupCode({ dir: deps.dir, now: deps.now });
    this.throttle = new LoginThrottle({ now: deps.now, policy: deps.throttle });
    this.failures = new Counter({
      name: 'fieldgate_api_auth_failures_total',
      help: 'Failed logins, setup-code attempts and refused API calls, by reason',
      labelNames: ['reason'],
      registers: [deps.metrics],
    });
  }

  /**
   * On start: a new local status token (`<dir>/status-token`, 0600, for `fieldgate status` on the
   * box) and, while there is no admin, a new setup code (logged, and in the setup-code file).
   */
  start(): void {
    const localToken = randomBytes(32).toString('hex');
    this.localTokenMatches = createTokenCheck(localToken);
    ensurePrivateDir(this.deps.dir);
    writePrivateFile(join(this.deps.dir, STATUS_TOKEN_FILE), `${localToken}\n`);
    if (this.accounts.hasAdmin()) {
      this.setupCode.withdraw();
      return;
    }
    const issued = this.setupCode.issue();
    this.deps.log.warn(
      { setupCode: issued.code, expiresAt: issued.expiresAt, file: this.setupCode.file },
      `no admin account yet: open the setup UI and enter the setup code ${issued.code} (valid until ${issued.expiresAt}, once)`,
    );
  }

  /** True for the local status token of this run. */
  isLocalToken(presented: string | undefined): boolean {
    return this.localTokenMatches?.(presented) ?? false;
  }

  countFailure(reason: AuthFailureReason): void {
    this.failures.inc({ reason });
  }

  /** `onBoxScreen`: the caller is the box's own window, which may show the code itself. */
  setupState(onBoxScreen = false): MethodResult<'setupState'> {
    const expiresAt = this.setupCode.expiresAt();
    const needsSetup = !this.accounts.hasAdmin();
    return {
      needsSetup,
      codeExpiresAt: needsSetup && expiresAt !== undefined ? new Date(expiresAt).toISOString() : null,
      where: needsSetup
        ? expiresAt === undefined
          ? 'the setup code expired: restart the gateway (systemctl restart fieldgate) for a new one'
          : 'the gateway log (journalctl -u fieldgate), `fieldgate status`, or the box\'s own window'
        : 'setup is done: sign in',
      ...(needsSetup && onBoxScreen && this.setupCode.code() ? { code: this.setupCode.code() } : {}),
    };
  }

  async completeSetup(input: ParsedInput<'completeSetup'>, client: string): Promise<Session> {
    const keys = ['setup', `address:${client}`];
    this.throttle.assertAllowed(keys);
    if (this.accounts.hasAdmin()) throw new ApiError('conflict', 'setup is already done: sign in instead');
    checkNewPassword(input.password, input.username);
    if (!this.setupCode.consume(input.code)) {
      this.throttle.fail(keys);
      this.countFailure('wrong-setup-code');
      this.deps.log.warn({ client }, 'setup refused: wrong, used or expired setup code');
      throw new ApiError('forbidden', 'the setup code is wrong, used or expired', { field: 'code', hint: this.setupState().where });
    }
    this.throttle.succeed(keys);
    await this.accounts.add(input.username, 'admin', input.password);
    this.deps.log.info({ username: input.username, client }, 'setup done: first admin account created');
    return this.sessions.create(input.username, 'admin');
  }

  async login(input: ParsedInput<'login'>, client: string): Promise<Session> {
    const keys = [`user:${input.username}`, `address:${client}`];
    try {
      this.throttle.assertAllowed(keys);
    } catch (error) {
      this.countFailure('locked');
      this.deps.log.warn({ username: input.username, client }, 'login refused: locked out after failed attempts');
      throw error;
    }
    const role = await this.accounts.verify(input.username, input.password);
    if (role === undefined) {
      this.throttle.fail(keys);
      const reason = this.accounts.role(input.username) === undefined ? 'unknown-user' : 'wrong-password';
      this.countFailure(reason);
      this.deps.log.warn({ username: input.username, client, reason }, 'login failed');
      throw new ApiError('unauthorized', 'wrong user name or password');
    }
    this.throttle.succeed(keys);
    this.deps.log.info({ username: input.username, client }, 'signed in');
    return this.sessions.create(input.username, role);
  }

  async changePassword(session: Session, input: ParsedInput<'changePassword'>, client: string): Promise<void> {
    const keys = [`user:${session.username}`, `address:${client}`];
    this.throttle.assertAllowed(keys);
    if ((await this.accounts.verify(session.username, input.currentPassword)) === undefined) {
      this.throttle.fail(keys);
      this.countFailure('wrong-password');
      throw new ApiError('forbidden', 'the current password is wrong', { field: 'currentPassword' });
    }
    await this.accounts.setPassword(session.username, input.newPassword);
    this.sessions.endAllOf(session.username, session.id);
    this.deps.log.info({ username: session.username }, 'password changed; other sessions ended');
  }

  async addUser(input: ParsedInput<'addUser'>): Promise<MethodResult<'addUser'>> {
    const user = await this.accounts.add(input.username, input.role, input.password);
    this.deps.log.info({ username: user.username, role: user.role }, 'user added');
    return user;
  }

  removeUser(username: string): void {
    this.accounts.remove(username);
    this.sessions.endAllOf(username);
    this.deps.log.info({ username }, 'user removed; their sessions ended');
  }

  async resetPassword(input: ParsedInput<'resetPassword'>): Promise<void> {
    await this.accounts.setPassword(input.username, input.password);
    this.sessions.endAllOf(input.username);
    this.deps.log.info({ username: input.username }, 'password reset by an admin; the user\'s sessions ended');
  }

  /** The box's own window with `ui.localWindow: trusted`: a session that needs no password. */
  localWindowSession(): Session {
    return this.sessions.create('local-window', 'admin', { localWindow: true });
  }

  info(session: Session): SessionInfo {
    return this.sessions.info(session);
  }
}
