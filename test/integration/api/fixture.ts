// A real gateway (sim sensor, SQLite buffer, no cloud) with its API server on a free loopback
// port, and a cookie-keeping HTTP client that behaves like the setup UI in a browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { apiDataDir } from '../../../main/config/location.js';
import { readSetupCode } from '../../../main/api/setup-code.js';
import { validateConfig } from '../../../main/config/validate.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { buildGateway, type Gateway } from '../../../main/service/gateway.js';
import { CSRF_COOKIE, CSRF_HEADER, httpRoute, type MethodInput, type MethodName } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  dataDir: string;
  setupCode(): string;
}

export async function startGateway(t: TestContext, ui: Record<string, unknown> = {}): Promise<RunningGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-api-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = validateConfig({
    gateway: { id: 'gw-api', dataDir },
    sensors: { sim: [{ id: 'sim-a', rate: 5, quantities: ['temperature'] }] },
    ui: { port: 0, ...ui },
  });
  const gateway = buildGateway({ config, log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) });
  await gateway.supervisor.start();
  t.after(() => gateway.supervisor.stop());
  const running = gateway.supervisor.report().find((component) => component.name === 'api')?.state === 'running';
  const url = running ? gateway.apiServer!.url : '';
  return {
    gateway,
    url,
    dataDir,
    setupCode: () => {
      const issued = readSetupCode(apiDataDir(dataDir), Date.now());
      if (!issued) throw new Error('no setup code issued');
      return issued.code;
    },
  };
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** Keeps cookies like a browser and sends Origin and the CSRF header on POST, unless told not to. */
export class BrowserClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly url: string,
    readonly origin = url,
  ) {}

  async request(method: 'GET' | 'POST', path: string, options: { body?: unknown; headers?: Record<string, string>; csrf?: boolean; raw?: NonNullable<RequestInit['body']> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (method === 'POST') {
      headers.origin ??= this.origin;
      const csrf = this.cookies.get(CSRF_COOKIE);
      if (options.csrf !== false && csrf) headers[CSRF_HEADER] ??= csrf;
      if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)),
      redirect: 'manual',
      ...(options.raw ? { duplex: 'half' } : {}),
    } as RequestInit);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      const cleared = attributes.some((attribute) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(attribute));
      if (cleared || value.join('=') === '') this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join('='));
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Prometheus text and HTML stay strings.
    }
    return { status: response.status, body, headers: response.headers };
  }

  /** Calls a method by its route from the table. */
  call<M extends MethodName>(name: M, input?: MethodInput<M>, options: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
    const { verb, url } = httpRoute(name);
    if (verb === 'GET') {
      const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
      return this.request('GET', `${url}${query}`, options);
    }
    return this.request('POST', url, { body: input ?? {}, ...options });
  }

  /** A first GET, as a browser loading the page does, so the CSRF cookie is set. */
  async open(): Promise<void> {
    await this.call('setupState');
  }
}

/** Completes setup with the gateway's code and returns the admin's signed-in client. */
export async function setUpAdmin(gateway: RunningGateway): Promise<BrowserClient> {
  const admin = new BrowserClient(gateway.url);
  await admin.open();
  const answer = await admin.call('completeSetup', { code: gateway.setupCode(), password: ADMIN_PASSWORD });
  if (answer.status !== 200) throw new Error(`setup failed: ${JSON.stringify(answer.body)}`);
  return admin;
}
