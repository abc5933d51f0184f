// A real gateway (pty serial sensor, sim sensor, SQLite buffer, Mosquitto with mutual TLS, API
// server): each rule's alert is raised and then cleared at a cloud subscriber and in the API;
// alerts survive a restart, and the subscriber sees every raise and clear exactly once by seq.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { validateConfig } from '../../../main/config/validate.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { buildGateway, type Gateway } from '../../../main/service/gateway.js';
import type { Alert, GatewayStatus } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import type { Config } from '../../../main/shared/config/schema.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { parsePrometheusText } from '../../helpers/prom-text.js';
import { SocatPair } from '../../helpers/socat.js';
import { closePort, openDeviceEnd, send } from '../serial/fixture.js';
import { cloudSubscriber, waitFor } from '../uplink/fixture.js';
import { AlertWatch, apiGet, cloudSection, type AlertEvent } from './alerts-rig.js';

const GATEWAY_ID = 'gw-alerts';

describe('alerts on a real gateway', () => {
  const pair = new SocatPair();
  let pki: Pki;
  let broker: Mosquitto;
  let subscriber: Awaited<ReturnType<typeof cloudSubscriber>>;
  let dir: string;
  let gateway: Gateway;
  let device: SerialPort | undefined;
  type Raw = Record<string, unknown> & { alerts: Record<string, unknown> & { disk: { minFreeBytes: number } } };
  let raw: Raw;

  const config = (edit: (c: Raw) => void = () => undefined): Config => {
    edit(raw);
    return validateConfig(structuredClone(raw));
  };

  let watch: AlertWatch;
  const eventsOf = (key: string) => watch.eventsOf(key);
  const waitEvent = (key: string, event: AlertEvent['event'], after = 0) => watch.waitEvent(key, event, after);

  const api = (path: string) => apiGet(gateway, dir, path);
  const activeInApi = async () => ((await api('/api/alerts')).body as { active: Alert[] }).active.map((a) => a.key).sort();
  const activeInStatus = async () => ((await api('/api/status')).body as GatewayStatus).alerts.active.map((a) => a.key);

  async function startGateway(): Promise<void> {
    gateway = buildGateway({ config: config(), log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) });
    await gateway.supervisor.start();
  }

  before(async () => {
    await pair.start();
    pki = await createPki();
    // A persistent broker and session: what the gateway sends while the subscriber reconnects is queued for it.
    broker = await startMosquitto({ pki, persistence: true });
    subscriber = await cloudSubscriber(broker, pki, { persistentSession: true });
    watch = new AlertWatch(subscriber.messages, `${broker.prefix}/${GATEWAY_ID}/alerts`);
    const client = await pki.issueClientCert({ cn: GATEWAY_ID });
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-alerts-'));
    raw = {
      gateway: { id: GATEWAY_ID, dataDir: dir },
      buffer: { maxRows: 60, commitWindowMs: 2 },
      cloud: cloudSection(broker, pki, client),
      sensors: {
        sim: [{ id: 'sim-1', rate: 40, quantities: ['temperature'] }],
        serial: [{ id: 'p1', path: pair.a, format: 'jsonl', sensorId: 'pty-1' }],
      },
      ui: { port: 0 },
      alerts: { checkIntervalMs: 100, sensorSilent: { floorMs: 600, intervals: 3 }, disk: { minFreeBytes: 0 }, cloudFailures: { count: 3, windowMs: 60_000 } },
    };
    await startGateway();
    device = await openDeviceEnd(pair.b);
    await waitFor(() => gateway.uplink?.status().state === 'connected' || undefined, 'the uplink to connect');
  });

  after(async () => {
    await closePort(device);
    await gateway?.supervisor.stop();
    await subscriber?.close();
    await broker?.cleanup();
    await pki?.cleanup();
    await pair.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('/healthz and /readyz answer without a token on loopback, with every configured part running', async () => {
    const base = (gateway.apiServer as NonNullable<Gateway['apiServer']>).url;
    const live = await fetch(`${base}/healthz`);
    assert.equal(live.status, 200);
    assert.equal(((await live.json()) as { status: string }).status, 'ok');
    const ready = await fetch(`${base}/readyz`);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(ready.status, 200, JSON.stringify(body));
    for (const part of ['buffer', 'alerts', 'sim:sim-1', 'serial:p1', 'api', 'event-loop']) assert.equal(body.checks[part]?.ok, true, part);
  });

  it('a pty sensor that stops sending raises sensor-silent; its next line clears it', async () => {
    for (let i = 0; i < 12; i++) {
      await send(device as SerialPort, `{"temperature":${20 + i / 10}}\n`);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    // Silent since the start until now (raised and cleared at the subscriber, or never raised).
    const base = await waitFor(() => {
      const last = eventsOf('sensor-silent:pty-1').at(-1);
      return !gateway.alerts.isActive('sensor-silent:pty-1') && last?.event !== 'raise' ? { seq: last?.seq ?? 0 } : undefined;
    }, 'pty-1 heard from');
    const raised = await waitEvent('sensor-silent:pty-1', 'raise', base.seq);
    assert.equal(raised.type, 'sensor-alert');
    assert.equal(raised.subject, 'pty-1');
    assert.equal(raised.clearedAt, null);
    assert.ok((await activeInApi()).includes('sensor-silent:pty-1'));
    assert.ok((await activeInStatus()).includes('sensor-silent:pty-1'));
    const status = (await api('/api/status')).status;
    assert.equal(status, 200);
    await send(device as SerialPort, '{"temperature":21}\n');
    const cleared = await waitEvent('sensor-silent:pty-1', 'clear', raised.seq);
    assert.equal(cleared.seq, raised.seq + 1);
    assert.equal(cleared.raisedAt, raised.raisedAt);
    assert.ok(cleared.clearedAt);
    assert.ok(!(await activeInApi()).includes('sensor-silent:pty-1'));
    assert.ok(!(await activeInStatus()).includes('sensor-silent:pty-1'));
    const recent = ((await api('/api/alerts')).body as { recent: Alert[] }).recent;
    assert.ok(recent.some((a) => a.key === 'sensor-silent:pty-1' && a.clearedAt !== null));
  });

  it('free disk space below alerts.disk.minFreeBytes raises disk-low (gauge and retained status agree); a lower threshold clears it', async () => {
    await gateway.apply(config((c) => (c.alerts.disk.minFreeBytes = Number.MAX_SAFE_INTEGER)));
    const raised = await waitEvent('disk-low:disk', 'raise');
    assert.equal(raised.severity, 'critical');
    assert.match(raised.message, /^only \d+\.\d [KMGTP]iB free on the filesystem of .* \(alerts\.disk\.minFreeBytes is 8\.0 PiB\)$/);
    const metrics = parsePrometheusText(await (await fetch(`${(gateway.apiServer as NonNullable<Gateway['apiServer']>).url}/metrics`)).text());
    const gauge = metrics.get('fieldgate_alerts_active');
    assert.equal(gauge?.type, 'gauge');
    const fromGauge = (gauge?.samples ?? []).filter((s) => s.value > 0).map((s) => `${s.labels.kind}/${s.labels.severity}=${s.value}`).sort();
    const active = ((await api('/api/alerts')).body as { active: Alert[] }).active;
    const counted = new Map<string, number>();
    for (const a of active) counted.set(`${a.kind}/${a.severity}`, (counted.get(`${a.kind}/${a.severity}`) ?? 0) + 1);
    assert.deepEqual(fromGauge, [...counted].map(([k, n]) => `${k}=${n}`).sort());
    assert.ok(fromGauge.includes('disk-low/critical=1'));
    assert.ok((metrics.get('fieldgate_disk_free_bytes')?.samples[0]?.value ?? 0) > 0);
    assert.equal(metrics.get('fieldgate_event_loop_lag_seconds')?.type, 'gauge');
    const rtt = metrics.get('fieldgate_uplink_puback_seconds');
    assert.equal(rtt?.type, 'histogram');
    assert.ok((rtt?.samples.find((s) => s.name === 'fieldgate_uplink_puback_seconds_count')?.value ?? 0) > 0, 'PUBACK round trips observed');
    const status = await waitFor(() => {
      const last = subscriber.messages.filter((m) => m.topic === `${broker.prefix}/${GATEWAY_ID}/status`).at(-1);
      const body = last && (JSON.parse(last.text) as { alerts?: Record<string, number> });
      return (body?.alerts?.critical ?? 0) >= 1 ? body : undefined;
    }, 'a status with the critical count');
    assert.equal(status.alerts?.critical, active.filter((a) => a.severity === 'critical').length);
    assert.ok((await activeInStatus()).includes('disk-low:disk'));
    await gateway.apply(config((c) => (c.alerts.disk.minFreeBytes = 0)));
    await waitEvent('disk-low:disk', 'clear', raised.seq);
    assert.ok(!(await activeInStatus()).includes('disk-low:disk'));
  });

  it('with the broker away: cloud-failing and buffer-filling are raised offline, reach the cloud on reconnect, and clear once it drains', async () => {
    await broker.stop();
    await waitFor(() => gateway.alerts.active().find((a) => a.key === 'cloud-failing:connection-refused'), 'cloud-failing raised locally');
    assert.ok((await activeInStatus()).includes('cloud-failing:connection-refused'));
    await waitFor(() => gateway.alerts.active().find((a) => a.key === 'buffer-filling:buffer'), 'buffer-filling raised locally');
    await broker.start();
    const failing = await waitEvent('cloud-failing:connection-refused', 'raise');
    assert.match(failing.message, /connection-refused/);
    assert.equal(failing.type, 'uplink-alert');
    assert.ok(failing.hint, 'the hint for the kind');
    await waitEvent('cloud-failing:connection-refused', 'clear', failing.seq);
    const filling = await waitEvent('buffer-filling:buffer', 'raise');
    await waitEvent('buffer-filling:buffer', 'clear', filling.seq);
    assert.ok(!(await activeInStatus()).includes('cloud-failing:connection-refused'));
  });

  it('a restart keeps active alerts, and no raise or clear reaches the cloud twice or goes missing', async () => {
    const before = Math.max(...eventsOf('disk-low:disk').map((e) => e.seq));
    await gateway.apply(config((c) => (c.alerts.disk.minFreeBytes = Number.MAX_SAFE_INTEGER)));
    const raised = await waitEvent('disk-low:disk', 'raise', before);
    await waitFor(() => gateway.alerts.pending(100).length === 0 || undefined, 'the outbox sent');
    const silentBefore = gateway.alerts.active().find((a) => a.key === 'sensor-silent:pty-1');
    assert.ok(silentBefore, 'pty-1 went silent again');
    await gateway.supervisor.stop();
    await startGateway();
    await waitFor(() => gateway.uplink?.status().state === 'connected' || undefined, 'the uplink to reconnect');
    assert.ok((await activeInApi()).includes('disk-low:disk'), 'still active after the restart');
    assert.equal(gateway.alerts.active().find((a) => a.key === 'disk-low:disk')?.raisedAt, raised.raisedAt);
    await gateway.rules.check();
    assert.equal(gateway.alerts.active().find((a) => a.key === 'sensor-silent:pty-1')?.raisedAt, silentBefore.raisedAt, 'a sensor silent before the restart stays silent until it sends');
    await gateway.apply(config((c) => (c.alerts.disk.minFreeBytes = 0)));
    const cleared = await waitEvent('disk-low:disk', 'clear', raised.seq);
    assert.equal(cleared.seq, raised.seq + 1, 'the restart published nothing for it');
    watch.assertReconciles();
    // The subscriber can see the clear before the gateway has handled its PUBACK.
    await waitFor(() => gateway.alerts.pending(100).length === 0 || undefined, 'the outbox empty once everything was acknowledged');
  });
});
