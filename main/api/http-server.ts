import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import {
  ApiError,
  apiMethods,
  CSRF_COOKIE,
  CSRF_HEADER,
  DEFAULT_MAX_BODY_BYTES,
  EVENTS_PATH,
  httpRoute,
  METHOD_NAMES,
  SESSION_COOKIE,
  type MethodName,
  type MethodSpec,
  type Role,
} from '../shared/api.js';
import type { UiConfig } from '../shared/config/gateway.js';
import { isLoopbackHost, uiUsesHttps } from '../shared/config/gateway.js';
import type { Component } from '../shared/lifecycle.js';
import type { ControlApi } from './control-api.js';
import { errorBody } from './dispatch.js';
import type { CallContext } from './handlers.js';
import { ensureHttpsMaterial, type HttpsMaterial } from './https-cert.js';
import { hostnameOf, hostServed, originMatches, servedHostnames } from './request-checks.js';
import type { Session } from './sessions.js';
import { bearerToken, createTokenCheck, readTokenFile, sameSecret } from './token.js';
import { attachEventSocket } from './event-socket.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Strict headers for every response: the UI loads only its own scripts and styles. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const TIMEOUTS = {
  /** Idle socket. */
  connectionMs: 60_000,
  /** A whole request, body included (a bundle upload over a slow link fits). */
  requestMs: 10 * 60_000,
  headersMs: 15_000,
  keepAliveMs: 5_000,
};

export interface ApiServerDeps {
  control: ControlApi;
  metrics: Registry;
  ui: UiConfig;
  /** For the self-signed HTTPS certificate's subject. */
  gatewayId: string;
  /** Largest accepted bundle upload (ota.maxBundleBytes); the OTA backend enforces it too. */
  maxUploadBytes: number;
  /** Compiled renderer (index.html and its scripts). */
  staticDir: string;
  log: Logger;
  now: () => number;
}

interface Caller {
  session: Session | undefined;
  bearerRole: Role | undefined;
}

/**
 * Serves the control API (routes derived from the method table), the event WebSocket, Prometheus
 * metrics and the setup UI. Every request passes the Host check (421 otherwise); state-changing
 * calls with a session cookie also need a same-origin Origin and the CSRF token.
 */
export class ApiServer implements Component {
  readonly name = 'api';
  private server: FastifyInstance | undefined;
  private https: HttpsMaterial | undefined;
  private readonly served: string[] = [];

  constructor(private readonly deps: ApiServerDeps) {}

  get url(): string {
    const address = this.server?.server.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('api server is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.https ? 'https' : 'http'}://${host}:${address.port}`;
  }

  /** SHA-256 of the served HTTPS certificate, or undefined over plain HTTP. */
  get httpsFingerprint(): string | undefined {
    return this.https?.fingerprint256;
  }

  /** `GET /api/status`, … every route served (the drift test compares them with the table). */
  get routes(): readonly string[] {
    return this.served;
  }

  async start(): Promise<void> {
    const { ui, control } = this.deps;
    const tokenMatches = ui.tokenFile === undefined ? undefined : createTokenCheck(readTokenFile(ui.tokenFile));
    this.https = uiUsesHttps(ui) ? await ensureHttpsMaterial({ ui, dir: control.dir, gatewayId: this.deps.gatewayId, now: this.deps.now() }) : undefined;
    control.httpsFingerprint = this.https?.fingerprint256 ?? null;
    const scheme = this.https ? 'https' : 'http';
    const hostnames = servedHostnames(ui);
    const secureCookie = this.https !== undefined;

    const server = Fastify({
      logger: false,
      bodyLimit: DEFAULT_MAX_BODY_BYTES,
      connectionTimeout: TIMEOUTS.connectionMs,
      requestTimeout: TIMEOUTS.requestMs,
      keepAliveTimeout: TIMEOUTS.keepAliveMs,
      return503OnClosing: true,
      ...(this.https ? { https: { cert: this.https.cert, key: this.https.key, minVersion: 'TLSv1.2' as const } } : {}),
    });
    server.server.maxConnections = ui.maxConnections;
    this.served.length = 0;
    server.addHook('onRoute', (route) => {
      for (const verb of [route.method].flat()) if (verb !== 'HEAD') this.served.push(`${verb} ${route.url}`);
    });
    server.server.headersTimeout = TIMEOUTS.headersMs;
    await server.register(cookie);
    await server.register(websocket, { options: { maxPayload: 4096 } });
    // A bundle upload is read from the raw request as it arrives; nothing buffers it.
    server.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null, undefined));

    const caller = (request: FastifyRequest): Caller => {
      const presented = bearerToken(request.headers.authorization);
      if (presented !== undefined) {
        if (tokenMatches?.(presented)) return { session: undefined, bearerRole: 'admin' };
        if (control.auth.isLocalToken(presented)) return { session: undefined, bearerRole: 'technician' };
        control.auth.countFailure('bad-token');
        throw new ApiError('unauthorized', 'wrong bearer token', { hint: 'send the token of ui.tokenFile' });
      }
      return { session: control.auth.sessions.use(request.cookies[SESSION_COOKIE]), bearerRole: undefined };
    };
    const cookieOptions = { path: '/', sameSite: 'strict' as const, secure: secureCookie };
    const setCsrfCookie = (reply: FastifyReply, token: string) => void reply.setCookie(CSRF_COOKIE, token, { ...cookieOptions, httpOnly: false });

    server.addHook('onRequest', async (request, reply) => {
      void reply.headers(SECURITY_HEADERS);
      if (this.https) void reply.header('strict-transport-security', 'max-age=31536000');
      const hostname = hostnameOf(request.headers.host);
      if (!hostServed(hostname, hostnames)) {
        return reply.code(421).send(new ApiError('misdirected', `this gateway does not serve the host "${request.headers.host ?? ''}"`, {
          hint: 'open the UI by the address it listens on, or add the name to ui.serverNames',
        }).toBody());
      }
      // Double-submit CSRF token for calls made before a session exists (login, setup).
      if (request.cookies[CSRF_COOKIE] === undefined) setCsrfCookie(reply, randomBytes(24).toString('base64url'));
    });
    server.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status === 413) return reply.code(413).send(new ApiError('too-large', 'the request body is too large').toBody());
      if (status >= 400 && status < 500) {
        return reply.code(400).send(new ApiError('bad-request', `malformed request: ${error.message}`).toBody());
      }
      this.deps.log.error({ err: error, url: request.url }, 'request failed');
      return reply.code(500).send(errorBody(error).body);
    });
    server.setNotFoundHandler((request, reply) => reply.code(404).send(new ApiError('not-found', `nothing at ${request.method} ${request.url.split('?')[0]}`).toBody()));

    const checkStateChange = (request: FastifyRequest, who: Caller): void => {
      if (who.bearerRole !== undefined && request.headers.origin === undefined) return;
      if (!originMatches(request.headers.origin, request.headers.host, scheme)) {
        throw new ApiError('forbidden', 'cross-origin request refused (the Origin header does not match this gateway)');
      }
      const expected = who.session?.csrfToken ?? request.cookies[CSRF_COOKIE];
      const presented = request.headers[CSRF_HEADER];
      if (who.bearerRole === undefined && !sameSecret(typeof presented === 'string' ? presented : undefined, expected)) {
        throw new ApiError('forbidden', `missing or wrong CSRF token: send the ${CSRF_HEADER} header with the value of the ${CSRF_COOKIE} cookie (or session.csrfToken)`);
      }
    };

    const route = (name: MethodName) => {
      const spec: MethodSpec = apiMethods[name];
      const { verb, url } = httpRoute(name);
      server.route({
        method: verb,
        url,
        bodyLimit: spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        handler: async (request, reply) => {
          let who: Caller | undefined;
          try {
            who = caller(request);
            if (spec.mutates) checkStateChange(request, who);
            const context: CallContext = {
              transport: 'http',
              session: who.session,
              bearerRole: who.bearerRole,
              client: request.ip,
              startSession: (session) => {
                void reply.setCookie(SESSION_COOKIE, session.id, { ...cookieOptions, httpOnly: true });
                setCsrfCookie(reply, session.csrfToken);
              },
              endSession: () => void reply.clearCookie(SESSION_COOKIE, { ...cookieOptions, httpOnly: true }),
              ...(spec.streamedBody ? { body: this.uploadStream(request) } : {}),
            };
            return await control.dispatch(name, this.inputOf(request, spec), context);
          } catch (error) {
            const { status, body } = errorBody(error);
            if (body.retryAfterSeconds !== undefined) void reply.header('retry-after', String(body.retryAfterSeconds));
            // A cookie naming no live session is dropped so the UI shows its login again.
            if (request.cookies[SESSION_COOKIE] !== undefined && who?.session === undefined) void reply.clearCookie(SESSION_COOKIE, { ...cookieOptions, httpOnly: true });
            if (spec.streamedBody && !request.raw.readableEnded) void reply.header('connection', 'close');
            return reply.code(status).send(body);
          }
        },
      });
    };
    for (const name of METHOD_NAMES) route(name);

    server.get(EVENTS_PATH, {
      websocket: true,
      preValidation: async (request, reply) => {
        const fail = (error: ApiError) => reply.code(error.status).send(error.toBody());
        let who: Caller;
        try {
          who = caller(request);
        } catch (error) {
          return fail(error as ApiError);
        }
        // Browsers always send Origin on a WebSocket upgrade; only token clients may omit it.
        const originOk = originMatches(request.headers.origin, request.headers.host, scheme);
        if (!originOk && !(who.bearerRole !== undefined && request.headers.origin === undefined)) {
          return fail(new ApiError('forbidden', 'cross-origin WebSocket refused (the Origin header does not match this gateway)'));
        }
        if (who.session === undefined && who.bearerRole === undefined) {
          control.auth.countFailure('no-session');
          return fail(new ApiError('unauthorized', 'sign in first: the event stream needs a session'));
        }
      },
    }, (socket, request) => {
      const who = caller(request);
      attachEventSocket({ socket, session: who.session, role: who.bearerRole ?? who.session?.role, control, log: this.deps.log });
    });

    const metricsOpen = isLoopbackHost(ui.host) && ui.tokenFile === undefined;
    server.get('/metrics', async (request, reply) => {
      if (!metricsOpen) {
        try {
          const who = caller(request);
          if (who.session === undefined && who.bearerRole === undefined) throw new ApiError('unauthorized', 'metrics need the bearer token of ui.tokenFile');
        } catch (error) {
          const { status, body } = errorBody(error);
          return reply.code(status).send(body);
        }
      }
      void reply.type(this.deps.metrics.contentType);
      return this.deps.metrics.metrics();
    });
    server.get('/favicon.ico', async (_request, reply) => reply.redirect('/icon.svg', 301));
    server.get('/*', async (request, reply) => {
      const file = this.staticFile((request.params as { '*': string })['*']);
      if (!file) return reply.code(404).send(new ApiError('not-found', 'not found').toBody());
      return reply.type(CONTENT_TYPES[extname(file)] ?? 'application/octet-stream').send(readFileSync(file));
    });
    await server.listen({ host: ui.host, port: ui.port });
    this.server = server;
    this.deps.log.info({ url: this.url, https: this.https !== undefined, fingerprint: this.https?.fingerprint256 }, 'setup UI and API listening');
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  private inputOf(request: FastifyRequest, spec: MethodSpec): unknown {
    if (spec.mutates && !spec.streamedBody) {
      const type = request.headers['content-type'];
      if (request.body !== undefined && !/^application\/json\b/i.test(type ?? '')) {
        throw new ApiError('bad-request', `send the input as JSON (content-type: application/json), not ${type ?? 'no content type'}`);
      }
      return request.body ?? {};
    }
    const raw = (request.query as Record<string, string | undefined>).input;
    if (raw === undefined) return {};
    try {
      return JSON.parse(raw);
    } catch {
      throw new ApiError('bad-request', 'the "input" query parameter is not valid JSON', { field: 'input' });
    }
  }

  /** The raw request body as it arrives, cut off once it passes the upload cap. */
  private uploadStream(request: FastifyRequest): AsyncIterable<Uint8Array> {
    const limit = this.deps.maxUploadBytes;
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (declared > limit) throw tooLarge(limit);
    const type = request.headers['content-type'];
    if (!/^application\/octet-stream\b/i.test(type ?? '')) {
      throw new ApiError('bad-request', `send the bundle as the raw body with content-type: application/octet-stream, not ${type ?? 'no content type'}`);
    }
    return capped(request.raw, limit);
  }

  private staticFile(requested: string): string | undefined {
    const relative = normalize(requested === '' ? 'index.html' : requested);
    if (relative.startsWith('..') || !(extname(relative) in CONTENT_TYPES)) return undefined;
    const file = join(this.deps.staticDir, relative);
    return existsSync(file) ? file : undefined;
  }
}

function tooLarge(limit: number): ApiError {
  return new ApiError('too-large', `the bundle is larger than ota.maxBundleBytes (${limit} bytes)`, { hint: 'raise ota.maxBundleBytes or build a smaller bundle' });
}

async function* capped(stream: IncomingMessage, limit: number): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      stream.destroy();
      throw tooLarge(limit);
    }
    yield chunk;
  }
}
