import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../shared/errors.js';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { ApiBackends } from './backends.js';
import type { Component } from '../shared/lifecycle.js';
import { bearerToken, createTokenCheck } from './token.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Strict headers for every response: the UI loads only its own scripts and styles. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface ApiServerDeps {
  backends: ApiBackends;
  metrics: Registry;
  host: string;
  port: number;
  /** Required beyond loopback (the config schema enforces it). */
  tokenFile: string | undefined;
  /** Compiled renderer (index.html and its scripts). */
  staticDir: string;
  log: Logger;
}

/** Serves the GatewayApi, Prometheus metrics and the setup UI over HTTP. */
export class ApiServer implements Component {
  readonly name = 'api';
  private server: FastifyInstance | undefined;

  constructor(private readonly deps: ApiServerDeps) {}

  get url(): string {
    const address = this.server?.server.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('api server is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  async start(): Promise<void> {
    const server = Fastify({ logger: false, bodyLimit: 64 * 1024 });
    const tokenMatches = this.deps.tokenFile === undefined ? undefined : createTokenCheck(readToken(this.deps.tokenFile));
    server.addHook('onRequest', async (request, reply) => {
      void reply.headers(SECURITY_HEADERS);
      if (tokenMatches && !tokenMatches(bearerToken(request.headers.authorization))) {
        return reply.code(401).send({ error: 'missing or wrong bearer token (see ui.tokenFile)' });
      }
    });
    server.get('/api/status', async () => this.deps.backends.status.status());
    server.get('/metrics', async (_request, reply) => {
      void reply.type(this.deps.metrics.contentType);
      return this.deps.metrics.metrics();
    });
    server.get('/favicon.ico', async (_request, reply) => reply.redirect('/icon.svg', 301));
    server.get('/*', async (request, reply) => {
      const file = this.staticFile((request.params as { '*': string })['*']);
      if (!file) return reply.code(404).send({ error: 'not found' });
      return reply.type(CONTENT_TYPES[extname(file)] ?? 'application/octet-stream').send(readFileSync(file));
    });
    await server.listen({ host: this.deps.host, port: this.deps.port });
    this.server = server;
    this.deps.log.info({ url: this.url }, 'setup UI and API listening');
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  private staticFile(requested: string): string | undefined {
    const relative = normalize(requested === '' ? 'index.html' : requested);
    if (relative.startsWith('..') || !(extname(relative) in CONTENT_TYPES)) return undefined;
    const file = join(this.deps.staticDir, relative);
    return existsSync(file) ? file : undefined;
  }
}

function readToken(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`"ui.tokenFile": cannot read ${file} (${(error as NodeJS.ErrnoException).code}); create it with: openssl rand -hex 32 > ${file}`);
  }
}
