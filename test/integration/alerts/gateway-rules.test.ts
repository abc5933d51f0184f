// The rules that need a real gateway to mean anything, each alert seen raised and then cleared at a
// cloud subscriber (Mosquitto with mutual TLS) and in /api/status: a clock behind the client
// certificate, failed local sign-ins over HTTP, a sim sensor flooding by rate, a pty sensor whose
// lines are mostly garbage, OTA installs through the gateway's own OTA service (a trial, its
// rollback kept across a restart, an operator's rollback, each ended by a good install) and a
// broker away long enough for the oldest unsent reading to go stale. Then the
// health endpoints off loopback: HTTPS and the bearer token.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { validateConfig } from '../../../main/config/validate.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { buildGateway, type Gateway } from '../../../main/service/gateway.js';
import type { GatewayStatus } from '../../../main/shared/api.js';
import type { Config } from '../../../main/shared/config/schema.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { parsePrometheusText } from '../../helpers/prom-text.js';
import { SocatPair } from '../../helpers/socat.js';
import { ARCH, MODEL } from '../../unit/ota/bundle-factory.js';
import { BrowserClient } from '../api/fixture.js';
import { CLI, OtaBox, SCRIPTS } from '../ota/fixture.js';
import { closePort, openDeviceEnd, send, waitFor } from '../serial/fixture.js';
import { cloudSubscriber } from '../uplink/fixture.js';
import { AlertWatch, apiGet, cloudSection } from './alerts-rig.js';

const GATEWAY_ID = 'gw-rules';

describe('alert rules on a real gateway', () => {
  const pair = new SocatPair();
  let pki: Pki;
  let broker: Mosquitto;
  let subscriber: Awaited<ReturnType<typeof cloudSubscriber>>;
  let watch: AlertWatch;
  let box: OtaBox;
  let dir: string;
  let gateway: Gateway;
  let device: SerialPort | undefined;
  /** How far the gateway's clock is behind the real one (a box booted without RTC, before NTP). */
  let clockBehindMs = 0;
  const clock = { now: () => Date.now() - clockBehindMs };
  let raw: Record<string, unknown> & { sensors: { sim: { id: string; rate: number }[]; serial: unknown[] } };

  const config = (): Config => validateConfig(structuredClone(raw));
  const statusAlerts = async () => ((await apiGet(gateway, dir, '/api/status')).body as GatewayStatus).alerts;
  const activeInStatus = async () => (await statusAlerts()).active.map((a) => a.key);

  async function startGateway(): Promise<void> {
    gateway = buildGateway({ config: config(), log: silentLogger, clock, metrics: createMetricsRegistry({ processMetrics: false }) });
    await gateway.supervisor.start();
    await waitFor('the uplink to connect', () => gateway.uplink?.status().state === 'connected');
  }

  /** Uploads a bundle to the gateway's OTA service, starts the install and waits until the service is free again. */
  async function install(version: number, script: string): Promise<void> {
    const ota = gateway.api.ota as NonNullable<Gateway['api']['ota']>;
    const bundle = readFileSync(await box.writeBundle(box.release(version, script)));
    const { bundleId } = await ota.upload((async function* () {
      yield bundle;
    })(), {});
    ota.install({ bundleId });
    await waitFor(`the install of version ${version} to finish`, async () => (await ota.status()).installing === null);
  }

  before(async () => {
    // The bundles' "good" script marks itself good through the real CLI.
    process.env.FG_CLI = CLI;
    await pair.start();
    pki = await createPki();
    broker = await startMosquitto({ pki, persistence: true });
    subscriber = await cloudSubscriber(broker, pki, { persistentSession: true });
    watch = new AlertWatch(subscriber.messages, `${broker.prefix}/${GATEWAY_ID}/alerts`);
    box = await OtaBox.create();
    const client = await pki.issueClientCert({ cn: GATEWAY_ID });
    dir = await mkdtemp(join(tmpdir(), 'fieldgate-rules-'));
    raw = {
      gateway: { id: GATEWAY_ID, dataDir: dir },
      buffer: { commitWindowMs: 2 },
      cloud: cloudSection(broker, pki, client),
      sensors: {
        sim: [{ id: 'sim-f', rate: 10 }],
        serial: [{ id: 'p1', path: pair.a, format: 'jsonl', sensorId: 'pty-1', staleAfterMs: 600_000 }],
      },
      ui: { port: 0 },
      ota: { model: MODEL, arch: ARCH, rootDir: box.root, trustedKeysFile: box.keysFile, markGoodTimeoutMs: 12_000, reserveBytes: 0 },
      alerts: {
        checkIntervalMs: 100,
        disk: { minFreeBytes: 0 },
        loginFailures: { count: 3, windowMs: 5_000 },
        sensorFlooding: { rateFactor: 5, rejectShare: 0.5, minLines: 20, windowMs: 1_500 },
      },
    };
    await startGateway();
    device = await openDeviceEnd(pair.b);
  });

  after(async () => {
    await closePort(device);
    await gateway?.supervisor.stop();
    await subscriber?.close();
    await broker?.cleanup();
    await pki?.cleanup();
    await pair.dispose();
    await box?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('login-failures after count failed sign-ins over HTTP within the window, not for calls without a session; clears once they are older than the window', async () => {
    const browser = new BrowserClient((gateway.apiServer as NonNullable<Gateway['apiServer']>).url);
    await browser.open();
    // A page left open past its session: refused calls, but no guess at a password.
    const stale = await Promise.all([0, 1, 2, 3, 4].map(() => browser.call('status')));
    assert.deepEqual(stale.map((a) => a.status), [401, 401, 401, 401, 401]);
    await gateway.rules.check();
    assert.ok(!gateway.alerts.isActive('login-failures:api'), 'calls without a session are not sign-in failures');
    const answers = await Promise.all([0, 1, 2].map((i) => browser.call('login', { username: 'admin', password: `guess ${i}` })));
    assert.deepEqual(answers.map((a) => a.status), [401, 401, 401]);
    const raised = await watch.waitEvent('login-failures:api', 'raise');
    assert.equal(raised.type, 'api-alert');
    assert.match(raised.message, /3 failed sign-ins to the local API/);
    assert.ok((await activeInStatus()).includes('login-failures:api'));
    await watch.waitEvent('login-failures:api', 'clear', raised.seq);
    assert.ok(!(await activeInStatus()).includes('login-failures:api'));
  });

  it('sensor-flooding when a sim sensor sends far above its learned rate; clears when it is back', async () => {
    await waitFor('sim-f\'s rate learned', () => gateway.rules.intervals.baselineRate('sim-f'));
    raw.sensors.sim[0]!.rate = 400;
    await gateway.apply(config());
    const raised = await watch.waitEvent('sensor-flooding:sim-f', 'raise');
    assert.equal(raised.type, 'sensor-alert');
    assert.match(raised.message, /more than 5× its usual/);
    assert.ok((await activeInStatus()).includes('sensor-flooding:sim-f'));
    raw.sensors.sim[0]!.rate = 10;
    await gateway.apply(config());
    await watch.waitEvent('sensor-flooding:sim-f', 'clear', raised.seq);
    assert.ok(!(await activeInStatus()).includes('sensor-flooding:sim-f'));
  });

  it('sensor-flooding for a serial port whose lines are mostly rejected; clears once good lines fill the window', async () => {
    await send(device as SerialPort, 'garbage, not JSON\n'.repeat(30));
    const raised = await watch.waitEvent('sensor-flooding:serial:p1', 'raise');
    assert.equal(raised.subject, 'serial:p1');
    assert.match(raised.message, /serial port "p1" rejected \d+ of its last \d+ lines/);
    assert.match(raised.hint ?? '', /fieldgate_serial_rejects_total/);
    assert.ok((await activeInStatus()).includes('sensor-flooding:serial:p1'));
    const metrics = parsePrometheusText(await (await fetch(`${(gateway.apiServer as NonNullable<Gateway['apiServer']>).url}/metrics`)).text());
    assert.ok((metrics.get('fieldgate_serial_lines_total')?.samples.find((s) => s.labels.port === 'p1')?.value ?? 0) >= 30, 'every line counted');
    for (let i = 0; !watch.eventsOf('sensor-flooding:serial:p1').some((e) => e.event === 'clear' && e.seq > raised.seq); i++) {
      await send(device as SerialPort, `{"temperature":${20 + (i % 10) / 10}}\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(!(await activeInStatus()).includes('sensor-flooding:serial:p1'));
  });

  it('trial-pending during an install\'s trial; rolled-back once it failed, kept across a restart, cleared by the next good install', async () => {
    await install(1, SCRIPTS.good);
    assert.equal(await box.current(), 'versions/1');
    // Once the rules saw this trial end, the next raise can only be version 2's.
    await waitFor('the first trial-pending to clear', () => !gateway.alerts.isActive('trial-pending:ota'));
    const afterFirst = Math.max(0, ...watch.eventsOf('trial-pending:ota').map((e) => e.seq));
    await install(2, SCRIPTS.silent);
    const trial = await watch.waitEvent('trial-pending:ota', 'raise', afterFirst);
    assert.equal(trial.severity, 'info');
    assert.match(trial.message, /version 2 is on trial/);
    await watch.waitEvent('trial-pending:ota', 'clear', trial.seq);
    const rolledBack = await watch.waitEvent('rolled-back:ota', 'raise');
    assert.equal(rolledBack.type, 'ota-alert');
    assert.equal(rolledBack.severity, 'warning');
    assert.match(rolledBack.message, /the update to version 2 was rolled back .* \(mark-good-timeout\); version 1 runs again/);
    assert.match(rolledBack.hint ?? '', /logs\/2\.log/);
    assert.equal(await box.current(), 'versions/1');
    const status = await statusAlerts();
    assert.ok(status.active.some((a) => a.key === 'rolled-back:ota'));
    assert.ok(!status.active.some((a) => a.key === 'trial-pending:ota'));

    // The restart into the old version: still rolled back, and nothing announced again.
    await waitFor('the outbox sent', () => gateway.alerts.pending(100).length === 0);
    await gateway.supervisor.stop();
    await startGateway();
    await gateway.rules.check();
    assert.equal(gateway.alerts.active().find((a) => a.key === 'rolled-back:ota')?.raisedAt, rolledBack.raisedAt);
    assert.ok((await activeInStatus()).includes('rolled-back:ota'));

    await install(3, SCRIPTS.good);
    assert.equal(await box.current(), 'versions/3');
    const cleared = await watch.waitEvent('rolled-back:ota', 'clear', rolledBack.seq);
    assert.equal(cleared.seq, rolledBack.seq + 1, 'the restart published nothing for it');
    assert.ok(!(await activeInStatus()).includes('rolled-back:ota'));
  });

  it('an operator\'s rollback raises rolled-back as info; the next good install clears it', async () => {
    const before = Math.max(0, ...watch.eventsOf('rolled-back:ota').map((e) => e.seq));
    await (gateway.api.ota as NonNullable<Gateway['api']['ota']>).rollback();
    assert.equal(await box.current(), 'versions/1');
    const raised = await watch.waitEvent('rolled-back:ota', 'raise', before);
    assert.equal(raised.severity, 'info');
    assert.match(raised.message, /an operator rolled back from version 3 .*; version 1 runs again/);
    const inStatus = await statusAlerts();
    assert.ok(inStatus.active.some((a) => a.key === 'rolled-back:ota' && a.severity === 'info'));
    assert.ok(inStatus.counts.info >= 1);
    // The gauges and the status agree on what is active.
    const gauge = parsePrometheusText(await (await fetch(`${(gateway.apiServer as NonNullable<Gateway['apiServer']>).url}/metrics`)).text()).get('fieldgate_alerts_active');
    assert.equal(gauge?.type, 'gauge');
    const fromGauge = (gauge?.samples ?? []).filter((s) => s.value > 0).map((s) => `${s.labels.kind}/${s.labels.severity}=${s.value}`).sort();
    const counted = new Map<string, number>();
    for (const a of (await statusAlerts()).active) counted.set(`${a.kind}/${a.severity}`, (counted.get(`${a.kind}/${a.severity}`) ?? 0) + 1);
    assert.deepEqual(fromGauge, [...counted].map(([k, n]) => `${k}=${n}`).sort());
    assert.ok(fromGauge.includes('rolled-back/info=1'));

    await install(4, SCRIPTS.good);
    await watch.waitEvent('rolled-back:ota', 'clear', raised.seq);
    assert.ok(!(await activeInStatus()).includes('rolled-back:ota'));
  });

  it('buffer-stale while the oldest unsent reading waits longer than oldestUnsentMs (broker away); clears once it is delivered', async () => {
    (raw.alerts as Record<string, unknown>).buffer = { oldestUnsentMs: 2_000 };
    await gateway.apply(config());
    await broker.stop();
    await waitFor('buffer-stale raised locally', () => gateway.alerts.isActive('buffer-stale:buffer'));
    assert.ok((await activeInStatus()).includes('buffer-stale:buffer'));
    await broker.start();
    const raised = await watch.waitEvent('buffer-stale:buffer', 'raise');
    assert.equal(raised.type, 'storage-alert');
    assert.match(raised.message, /the oldest unsent reading waits for/);
    await watch.waitEvent('buffer-stale:buffer', 'clear', raised.seq);
    assert.ok(!(await activeInStatus()).includes('buffer-stale:buffer'));
    delete (raw.alerts as Record<string, unknown>).buffer;
    await gateway.apply(config());
  });

  // Last: the simulator catches up on the time the clock jumped (a burst).
  it('clock-wrong while the clock is before the client certificate\'s validity; clears once the clock is right', async () => {
    // The certificate is valid from a minute ago: ten minutes behind is before it.
    clockBehindMs = 10 * 60_000;
    const raised = await watch.waitEvent('clock-wrong:identity', 'raise');
    assert.equal(raised.type, 'identity-alert');
    assert.equal(raised.severity, 'critical');
    assert.match(raised.message, /system clock is before the device certificate's start of validity/);
    assert.ok(raised.hint?.includes('NTP'));
    const inStatus = await statusAlerts();
    assert.ok(inStatus.active.some((a) => a.key === 'clock-wrong:identity' && a.severity === 'critical'));
    assert.ok(inStatus.counts.critical >= 1);
    clockBehindMs = 0;
    const cleared = await watch.waitEvent('clock-wrong:identity', 'clear', raised.seq);
    assert.equal(cleared.seq, raised.seq + 1);
    assert.ok(!(await activeInStatus()).includes('clock-wrong:identity'));
  });

  it('every raise and clear reached the cloud exactly once, in seq order per key', async () => {
    await waitFor('the outbox sent', () => gateway.alerts.pending(100).length === 0);
    watch.assertReconciles();
  });
});

describe('health endpoints off loopback', () => {
  let dir: string;
  let gateway: Gateway;
  const token = 't'.repeat(48);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fieldgate-health-'));
    writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
    const config = validateConfig({ gateway: { id: 'gw-health', dataDir: dir }, sensors: { sim: [{ id: 's1' }] }, ui: { host: '0.0.0.0', port: 0, tokenFile: join(dir, 'token') } });
    gateway = buildGateway({ config, log: silentLogger, clock: { now: () => Date.now() }, metrics: createMetricsRegistry({ processMetrics: false }) });
    await gateway.supervisor.start();
  });

  after(async () => {
    await gateway?.supervisor.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** GET over HTTPS to the wildcard listener through 127.0.0.1, trusting the gateway's self-signed certificate. */
  function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const server = gateway.apiServer as NonNullable<Gateway['apiServer']>;
    const port = new URL(server.url).port;
    const ca = readFileSync(join(dir, 'api', 'https-cert.pem'), 'utf8');
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, ca, checkServerIdentity: () => undefined, headers: { host: `127.0.0.1:${port}`, ...headers } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('/healthz and /readyz answer only with the bearer token, over HTTPS', async () => {
    assert.match((gateway.apiServer as NonNullable<Gateway['apiServer']>).url, /^https:/);
    for (const path of ['/healthz', '/readyz']) {
      const anonymous = await get(path);
      assert.equal(anonymous.status, 401, `${path} without a token`);
      assert.equal((JSON.parse(anonymous.body) as { error: string }).error, 'unauthorized');
      assert.equal((await get(path, { authorization: `Bearer ${'x'.repeat(48)}` })).status, 401, `${path} with a wrong token`);
    }
    const live = await get('/healthz', { authorization: `Bearer ${token}` });
    assert.equal(live.status, 200);
    assert.equal((JSON.parse(live.body) as { status: string }).status, 'ok');
    const ready = await waitFor('readyz to answer 200', async () => {
      const answer = await get('/readyz', { authorization: `Bearer ${token}` });
      return answer.status === 200 ? answer : undefined;
    });
    const checks = (JSON.parse(ready.body) as { checks: Record<string, { ok: boolean }> }).checks;
    for (const part of ['buffer', 'alerts', 'sim:s1', 'api']) assert.equal(checks[part]?.ok, true, part);
  });
});
