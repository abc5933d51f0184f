import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import type { Logger } from '../log/logger.js';
import type { HealthReport } from '../alerts/health.js';
import type { Registry } from '../metrics/registry.js';
import {
  ApiError,
  apiMethods,
  DEFAULT_MAX_BODY_BYTES,
  EVENTS_PATH,
  httpRoute,
  METHOD_NAMES,
  type MethodName,
  type MethodSpec,
} from '../shared/api.js';
import type { UiConfig } from '../shared/config/gateway.js';
import { isLoopbackHost, uiUsesHttps } from '../shared/config/gateway.js';
import type { Component } from '../shared/lifecycle.js';
import type { ControlApi } from './control-api.js';
import { errorBody } from './dispatch.js';
import type { CallContext } from './handlers.js';
import { ensureHttpsMaterial, type HttpsMaterial } from './https-cert.js';
import { servedHostnames } from './request-checks.js';
import { createTokenCheck, readTokenFile } from './token.js';
import { HttpAccess, type Caller } from './http-access.js';
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
  /** `/healthz` (alive, event loop responsive) and `/readyz` (every configured part running). */
  health?: { live(): HealthReport; ready(): HealthReport };
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

    const access = new HttpAccess({ control, tokenMatches, scheme, hostnames: servedHostnames(ui) });
    const sendError = (reply: FastifyReply, error: unknown) => {
      const { status, body } = errorBody(error);
      if (body.retryAfterSeconds !== undefined) void reply.header('retry-after', String(body.retryAfterSeconds));
      return reply.code(status).send(body);
    };

    server.addHook('onRequest', async (request, reply) => {
      void reply.headers(SECURITY_HEADERS);
      if (this.https) void reply.header('strict-transport-security', 'max-age=31536000');
      try {
        access.assertHostServed(request);
      } catch (error) {
        return sendError(reply, error);
      }
      access.ensureCsrfCookie(request, reply);
    });
    server.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
      const status = error.statusCode ?? 500;
      // An oversized JSON body is a bad request like a malformed one (413 is kept for bundles beyond ota.maxBundleBytes).
      if (status === 413) return reply.code(400).send(new ApiError('bad-request', 'the request body is larger than this method accepts', { hint: 'send a smaller body; uploads of bundles go to POST /api/ota/bundle' }).toBody());
      if (status >= 400 && status < 500) {
        return reply.code(400).send(new ApiError('bad-request', `malformed request: ${error.message}`).toBody());
      }
      this.deps.log.error({ err: error, url: request.url }, 'request failed');
      return reply.code(500).send(errorBody(error).body);
    });
    server.setNotFoundHandler((request, reply) => reply.code(404).send(new ApiError('not-found', `nothing at ${request.method} ${request.url.split('?')[0]}`).toBody()));

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
            who = access.caller(request);
            if (spec.mutates) access.assertMayChangeState(request, who);
            const context: CallContext = {
              transport: 'http',
              session: who.session,
              bearerRole: who.bearerRole,
              client: request.ip,
              startSession: (session) => access.startSession(reply, session),
              endSession: () => access.endSession(reply),
              ...(spec.streamedBody ? { body: this.uploadStream(request) } : {}),
            };
            return await control.dispatch(name, this.inputOf(request, spec), context);
          } catch (error) {
            access.dropStaleSession(request, reply, who);
            if (spec.streamedBody && !request.raw.readableEnded) void reply.header('connection', 'close');
            return sendError(reply, error);
          }
        },
      });
    };
    for (const name of METHOD_NAMES) route(name);

    server.get(EVENTS_PATH, {
      websocket: true,
      preValidation: async (request, reply) => {
        try {
          access.assertMayListen(request, access.caller(request));
        } catch (error) {
          return sendError(reply, error);
        }
      },
    }, (socket, request) => {
      const who = access.caller(request);
      attachEventSocket({ socket, session: who.session, role: who.bearerRole ?? who.session?.role, control, log: this.deps.log });
    });

    const metricsOpen = isLoopbackHost(ui.host) && ui.tokenFile === undefined;
    server.get('/metrics', async (request, reply) => {
      if (!metricsOpen) {
        try {
          const who = access.caller(request);
          if (who.session === undefined && who.bearerRole === undefined) throw new ApiError('unauthorized', 'metrics need the bearer token of ui.tokenFile');
        } catch (error) {
          return sendError(reply, error);
        }
      }
      void reply.type(this.deps.metrics.contentType);
      return this.deps.metrics.metrics();
    });
    // Health says nothing secret: open on a loopback listener, behind a session or the token elsewhere.
    const healthOpen = isLoopbackHost(ui.host);
    for (const [path, report] of [['/healthz', 'live'], ['/readyz', 'ready']] as const) {
      server.get(path, async (request, reply) => {
        const health = this.deps.health;
        if (!health) return sendError(reply, new ApiError('not-found', 'no health probe in this server'));
        if (!healthOpen) {
          try {
            const who = access.caller(request);
            if (who.session === undefined && who.bearerRole === undefined) throw new ApiError('unauthorized', `${path} off loopback needs the bearer token of ui.tokenFile`);
          } catch (error) {
            return sendError(reply, error);
          }
        }
        const result = health[report]();
        return reply.code(result.ok ? 200 : 503).send({ status: result.ok ? 'ok' : 'failing', checks: result.checks });
      });
    }
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
