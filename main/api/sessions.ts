import { randomBytes } from 'node:crypto';
import type { Role, SessionInfo } from '../shared/api.js';

export interface Session {
  readonly id: string;
  readonly username: string;
  role: Role;
  /** Bound to the session: a state-changing call must present it. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastUsedAt: number;
  /** The box's own window with `ui.localWindow: trusted`. */
  readonly localWindow: boolean;
}

export type SessionEndReason = 'expired' | 'ended';

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/** Server-side sessions, in memory: a restart signs everyone out. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly endListeners = new Set<(session: Session, reason: SessionEndReason) => void>();

  constructor(private readonly deps: { limits: SessionLimits; now: () => number }) {}

  create(username: string, role: Role, options: { localWindow?: boolean } = {}): Session {
    this.sweep();
    const now = this.deps.now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      username,
      role,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastUsedAt: now,
      localWindow: options.localWindow ?? false,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for an id, moving its idle expiry forward; ends it when expired. */
  use(id: string | undefined): Session | undefined {
    const session = this.peek(id);
    if (session) session.lastUsedAt = this.deps.now();
    return session;
  }

  /** Like `use`, without counting as activity (WebSocket liveness checks). */
  peek(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (this.expired(session)) {
      this.end(session.id, 'expired');
      return undefined;
    }
    return session;
  }

  end(id: string, reason: SessionEndReason = 'ended'): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    for (const listener of this.endListeners) listener(session, reason);
  }

  /** Ends every session of a user except `keep` (after a password change or removal). */
  endAllOf(username: string, keep?: string): void {
    for (const session of [...this.sessions.values()]) {
      if (session.username === username && session.id !== keep) this.end(session.id);
    }
  }

  /** After a role change: live sessions take the new role at once. */
  setRole(username: string, role: Role): void {
    for (const session of this.sessions.values()) if (session.username === username) session.role = role;
  }

  onEnd(listener: (session: Session, reason: SessionEndReason) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  info(session: Session): SessionInfo {
    const { idleMs, absoluteMs } = this.deps.limits;
    const absolute = session.createdAt + absoluteMs;
    return {
      username: session.username,
      role: session.role,
      idleExpiresAt: new Date(Math.min(session.lastUsedAt + idleMs, absolute)).toISOString(),
      expiresAt: new Date(absolute).toISOString(),
      csrfToken: session.csrfToken,
      localWindow: session.localWindow,
    };
  }

  private expired(session: Session): boolean {
    if (session.localWindow) return false;
    const now = this.deps.now();
    return now >= session.lastUsedAt + this.deps.limits.idleMs || now >= session.createdAt + this.deps.limits.absoluteMs;
  }

  private sweep(): void {
    for (const session of [...this.sessions.values()]) if (this.expired(session)) this.end(session.id, 'expired');
  }
}
