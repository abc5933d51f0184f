// The composition root in process, with a real SQLite buffer and a socat pty as the serial port:
// applying a new config replaces only the parts that changed, a paused serial port stays closed
// across a reconcile until resumed, and the buffer is the same running component throughout.
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
import { systemClock } from '../../../main/shared/clock.js';
import type { Config } from '../../../main/shared/config/schema.js';
import { SocatPair } from '../../helpers/socat.js';
import { closePort, openDeviceEnd, send } from '../serial/fixture.js';
import { waitFor } from '../uplink/fixture.js';

describe('the gateway follows a new config part by part', () => {
  const pair = new SocatPair();
  let dir: string;
  let gateway: Gateway;
  let device: SerialPort | undefined;
  type Raw = { sensors: { sim: unknown[]; serial: unknown[] }; ui: unknown };
  let raw: Raw;
  /** The config so far with `edit` applied on top (each edit builds on the previous ones). */
  const config = (edit: (c: Raw) => void = () => undefined): Config => {
    edit(raw);
    return validateConfig(raw);
  };

  const names = () => gateway.supervisor.report().map((c) => `${c.name}=${c.state}`);
  const latestTs = (sensor: string) => gateway.values.values(sensor)[0]?.values.temperature?.ts ?? 0;
  /** Sends a line until x1 has a value newer than `since` (lines sent before the port opened are lost). */
  async function x1Reading(since: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (let i = 0; Date.now() < deadline && latestTs('x1') <= since; i++) {
      await send(device as SerialPort, `{"temperature":${20 + i / 10}}\n`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(latestTs('x1') > since, 'a new x1 reading was accepted');
  }

  before(async () => {
    await pair.start();
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-parts-'));
    raw = {
      gateway: { id: 'gw-parts', dataDir: dir },
      sensors: {
        sim: [{ id: 'a', rate: 50, quantities: ['temperature'] }, { id: 'b', rate: 50, quantities: ['temperature'] }],
        serial: [{ id: 'p1', path: pair.a, format: 'jsonl', sensorId: 'x1' }],
      },
      ui: { port: 0 },
    } as Raw;
    gateway = buildGateway({ config: config(), log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) });
    await gateway.supervisor.start();
    device = await openDeviceEnd(pair.b);
  });

  after(async () => {
    await closePort(device);
    await gateway?.supervisor.stop();
    await pair.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts one part per sim sensor and serial port, after the buffer', async () => {
    const parts = ['buffer=running', 'sim:a=running', 'sim:b=running', 'serial:p1=running', 'api=running'];
    assert.deepEqual(names().filter((n) => parts.includes(n)), parts, names().join(', '));
    assert.ok(names().every((n) => n.endsWith('=running')), names().join(', '));
    await waitFor(() => latestTs('a') > 0 || undefined, 'a value of sim sensor a');
    await x1Reading(0);
  });

  it('a changed sim entry restarts only that sensor; the buffer stays the same running component', async () => {
    const buffer = gateway.buffer;
    const depthBefore = buffer.stats(Date.now()).depth;
    const outcome = await gateway.apply(config((c) => (c.sensors.sim[1] = { id: 'b', rate: 20, quantities: ['temperature'] })));
    assert.deepEqual(outcome, { restarted: ['sim:b'], needsRestart: [] });
    assert.equal(gateway.buffer, buffer);
    assert.ok(buffer.stats(Date.now()).depth >= depthBefore, 'nothing accepted was lost');
    assert.ok(names().includes('buffer=running'));
  });

  it('a paused serial port stays stopped across a reconcile and runs again once resumed', async () => {
    await gateway.serialPorts.pause('p1');
    assert.ok(!names().some((n) => n.startsWith('serial:p1')), names().join(', '));
    const changed = config((c) => (c.sensors.serial[0] = { id: 'p1', path: pair.a, format: 'jsonl', sensorId: 'x1', maxLinesPerSecond: 50 }));
    assert.deepEqual((await gateway.apply(changed)).restarted, ['serial:p1']);
    assert.ok(!names().some((n) => n.startsWith('serial:p1')), 'still paused after the reconcile');
    const since = latestTs('x1');
    await gateway.serialPorts.resume('p1');
    assert.ok(names().includes('serial:p1=running'), names().join(', '));
    await x1Reading(since);
    assert.equal(gateway.serialPorts.configured()[0]?.id, 'p1');
  });

  it('a removed sensor goes with its values; a ui change replaces the API server', async () => {
    const server = gateway.apiServer;
    const outcome = await gateway.apply(
      config((c) => {
        c.sensors.sim = c.sensors.sim.slice(1);
        c.ui = { port: 0, host: '127.0.0.2' };
      }),
    );
    assert.deepEqual(outcome, { restarted: ['sim:a', 'api'], needsRestart: [] });
    // The API server is replaced right after the apply answers (the edit may have come through it).
    await waitFor(() => (gateway.apiServer !== server && names().includes('api=running')) || undefined, 'the new API server');
    assert.ok(!names().some((n) => n.startsWith('sim:a')));
    assert.deepEqual(gateway.values.values('a'), []);
    assert.notEqual(gateway.apiServer, server);
    assert.throws(() => server?.url, /not listening/);
    assert.match(gateway.apiServer?.url ?? '', /^http:\/\/127\.0\.0\.2:\d+$/);
    assert.equal((await fetch(`${gateway.apiServer?.url}/api/setup`)).status, 200);
  });
});
