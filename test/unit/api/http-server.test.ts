import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStatusBackend } from '../../../main/api/status-backend.js';
import { ApiServer } from '../../../main/api/http-server.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { SimSource } from '../../../main/sensors/sim/sim-source.js';
import { systemClock } from '../../../main/shared/clock.js';

const RENDERER = fileURLToPath(new URL('../../../renderer/', import.meta.url));

async function startServer(tokenFile?: string) {
  const sim = new SimSource({
    sensors: [{ id: 'sim-a', rate: 1, quantities: ['temperature'] }],
    sink: { accept: async () => undefined },
    log: silentLogger,
    clock: systemClock,
  });
  await sim.start();
  const status = createStatusBackend({
    gatewayId: 'gw-api',
    startedAt: new Date(0),
    components: () => [{ name: 'sim', state: 'running' }],
    sources: () => [sim],
    buffer: () => ({ depth: 3, bytes: 90, inFlight: 0, oldestUnsentAgeMs: 1500, drops: { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 }, pendingDropRecords: 0 }),
    uplink: () => undefined,
    certificate: () => undefined,
    now: () => Date.now(),
  });
  const server = new ApiServer({
    backends: { status },
    metrics: createMetricsRegistry({ processMetrics: true }),
    host: '127.0.0.1',
    port: 0,
    tokenFile,
    staticDir: RENDERER,
    log: silentLogger,
  });
  try {
    await server.start();
  } catch (error) {
    await sim.stop();
    throw error;
  }
  return { server, stop: async () => (await server.stop(), await sim.stop()) };
}

test('status, metrics and the UI are served with strict security headers', async (t) => {
  const { server, stop } = await startServer();
  t.after(stop);
  const status = await fetch(`${server.url}/api/status`);
  assert.equal(status.status, 200);
  assert.match(status.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(status.headers.get('x-content-type-options'), 'nosniff');
  const body = (await status.json()) as { gatewayId: string; sensors: { sensorId: string }[]; buffer: { depth: number }; uplink: unknown };
  assert.equal(body.gatewayId, 'gw-api');
  assert.deepEqual(body.sensors.map((s) => s.sensorId), ['sim-a']);
  assert.equal(body.buffer.depth, 3);
  assert.equal(body.uplink, null);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /^fieldgate_process_cpu_user_seconds_total /m);

  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>fieldgate<\/title>/);
  assert.equal((await fetch(`${server.url}/..%2f..%2fpackage.json`)).status, 404);
  assert.equal((await fetch(`${server.url}/tsconfig.json`)).status, 404);
});

test('beyond loopback every request needs the bearer token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const token = 'a'.repeat(20) + 'b'.repeat(20);
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const { server, stop } = await startServer(join(dir, 'token'));
  t.after(stop);
  assert.equal((await fetch(`${server.url}/api/status`)).status, 401);
  assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const ok = await fetch(`${server.url}/api/status`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
});

test('a short or missing token file is refused at start with a clear reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'short'), 'secret');
  await assert.rejects(startServer(join(dir, 'short')), /"ui\.tokenFile": token must be at least 32 characters, got 6/);
  await assert.rejects(startServer(join(dir, 'absent')), /"ui\.tokenFile": cannot read .*absent \(ENOENT\); create it with: openssl rand -hex 32/);
});
