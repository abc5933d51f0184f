import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, type Role } from '../shared/api.js';
import type { ControlApi } from './control-api.js';
import { hostnameOf, hostServed, originMatches } from './request-checks.js';
import type { Session } from './sessions.js';
import { bearerToken, sameSecret } from './token.js';

export interface Caller {
  session: Session | undefined;
  bearerRole: Role | undefined;
}

export interface HttpAccessDeps {
  control: ControlApi;
  /** Checks a presented ui.tokenFile token; undefined when none is configured. */
  tokenMatches: ((presented: string | undefined) => boolean) | undefined;
  scheme: 'http' | 'https';
  hostnames: ReadonlySet<string>;
}

/**
 * Who a request is (session cookie or bearer token) and whether it may do what it asks: the
 * Host check, Origin + CSRF for state changes, Origin + authentication for the WebSocket upgrade,
 * and the session and CSRF cookies.
 */
export class HttpAccess {
  private readonly cookieOptions: { path: string; sameSite: 'strict'; secure: boolean };

  constructor(private readonly deps: HttpAccessDeps) {
    this.cookieOptions = { path: '/', sameSite: 'strict', secure: deps.scheme === 'https' };
  }

  caller(request: FastifyRequest): Caller {
    const { control } = this.deps;
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined) {
      if (this.deps.tokenMatches?.(presented)) return { session: undefined, bearerRole: 'admin' };
      if (control.auth.isLocalToken(presented)) return { session: undefined, bearerRole: 'technician' };
      control.auth.countFailure('bad-token');
      throw new ApiError('unauthorized', 'wrong bearer token', { hint: 'send the token of ui.tokenFile' });
    }
    return { session: control.auth.sessions.use(request.cookies[SESSION_COOKIE]), bearerRole: undefined };
  }

  /** 421 for a Host the gateway does not serve (DNS rebinding). */
  assertHostServed(request: FastifyRequest): void {
    if (!hostServed(hostnameOf(request.headers.host), this.deps.hostnames)) {
      throw new ApiError('misdirected', `this gateway does not serve the host "${request.headers.host ?? ''}"`, {
        hint: 'open the UI by its IP address, or add the name to ui.serverNames',
      });
    }
  }

  /** A state change: a same-origin Origin and the CSRF token, unless a token client sends no Origin. */
  assertMayChangeState(request: FastifyRequest, who: Caller): void {
    if (who.bearerRole !== undefined && request.headers.origin === undefined) return;
    if (!originMatches(request.headers.origin, request.headers.host, this.deps.scheme)) {
      throw new ApiError('forbidden', 'cross-origin request refused (the Origin header does not match this gateway)');
    }
    if (who.bearerRole !== undefined) return;
    const expected = who.session?.csrfToken ?? request.cookies[CSRF_COOKIE];
    const presented = request.headers[CSRF_HEADER];
    if (!sameSecret(typeof presented === 'string' ? presented : undefined, expected)) {
      throw new ApiError('forbidden', `missing or wrong CSRF token: send the ${CSRF_HEADER} header with the value of the ${CSRF_COOKIE} cookie (or session.csrfToken)`);
    }
  }

  /** The event stream: browsers always send Origin on an upgrade, so only token clients may omit it. */
  assertMayListen(request: FastifyRequest, who: Caller): void {
    const tokenWithoutOrigin = who.bearerRole !== undefined && request.headers.origin === undefined;
    if (!tokenWithoutOrigin && !originMatches(request.headers.origin, request.headers.host, this.deps.scheme)) {
      throw new ApiError('forbidden', 'cross-origin WebSocket refused (the Origin header does not match this gateway)');
    }
    if (who.session === undefined && who.bearerRole === undefined) {
      this.deps.control.auth.countFailure('no-session');
      throw new ApiError('unauthorized', 'sign in first: the event stream needs a session');
    }
  }

  /** The double-submit CSRF token for calls made before a session exists (login, setup). */
  ensureCsrfCookie(request: FastifyRequest, reply: FastifyReply): void {
    if (request.cookies[CSRF_COOKIE] === undefined) this.setCsrfCookie(reply, randomBytes(24).toString('base64url'));
  }

  startSession(reply: FastifyReply, session: Session): void {
    void reply.setCookie(SESSION_COOKIE, session.id, { ...this.cookieOptions, httpOnly: true });
    this.setCsrfCookie(reply, session.csrfToken);
  }

  endSession(reply: FastifyReply): void {
    void reply.clearCookie(SESSION_COOKIE, { ...this.cookieOptions, httpOnly: true });
  }

  /** A cookie naming no live session is dropped, so the UI shows its login again. */
  dropStaleSession(request: FastifyRequest, reply: FastifyReply, who: Caller | undefined): void {
    if (request.cookies[SESSION_COOKIE] !== undefined && who?.session === undefined) this.endSession(reply);
  }

  private setCsrfCookie(reply: FastifyReply, token: string): void {
    void reply.setCookie(CSRF_COOKIE, token, { ...this.cookieOptions, httpOnly: false });
  }
}
