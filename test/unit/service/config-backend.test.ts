import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigDocument } from '../../../main/config/document.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createConfigBackends, mergePatchChanges } from '../../../main/service/config-backend.js';
import { EventBus } from '../../../main/service/event-bus.js';
import type { ConfigApplied, GatewayEvents } from '../../../main/service/gateway.js';
import { LiveConfig } from '../../../main/service/live-config.js';
import { ApiError } from '../../../main/shared/api.js';
import type { Config } from '../../../main/shared/config/schema.js';

const YAML = ['gateway: { id: gw-1, dataDir: data }', 'sensors:', '  sim:', '    - id: t1 # first', 'ui:', '  port: 8080', ''].join('\n');

async function rig(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-backend-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, YAML);
  const document = new ConfigDocument({ file, env: {} });
  const applied: Config[] = [];
  const bus = new EventBus<GatewayEvents>({ log: silentLogger });
  const events: ConfigApplied[] = [];
  bus.on('configApplied', (event) => events.push(event));
  const live = new LiveConfig({
    document,
    version: (await document.read()).version,
    apply: async (next) => {
      applied.push(next);
      return { restarted: ['sim:t2'], needsRestart: [] };
    },
    bus,
    log: silentLogger,
  });
  return { file, live, applied, events, ...createConfigBackends(live) };
}

test('a merge patch becomes key-path edits: null removes, objects merge, lists and values replace', () => {
  const document = { ui: { port: 8080, host: '127.0.0.1' }, sensors: { sim: [{ id: 't1' }] } };
  assert.deepEqual(mergePatchChanges(document, { ui: { port: 9090, host: null }, sensors: { sim: [] }, cloud: { url: 'x', caFile: null }, log: null }), [
    { path: ['ui', 'port'], value: 9090 },
    { path: ['ui', 'host'], remove: true },
    { path: ['sensors', 'sim'], value: [] },
    { path: ['cloud'], value: { url: 'x' } },
  ]);
});

test('sensor writes edit the file, the gateway follows, and listeners hear the running version', async (t) => {
  const { file, configWrites, config, applied, events } = await rig(t);
  const { version: v1 } = await config.read();
  const added = await configWrites.addSensor({ sensor: { kind: 'sim', entry: { id: 't2', rate: 2, quantities: ['temperature'] } }, version: v1 });
  assert.deepEqual(applied.at(-1)?.sensors.sim.map((s) => s.id), ['t1', 't2']);
  assert.deepEqual(events.at(-1), { version: added.version, restarted: ['sim:t2'], needsRestart: [] });
  await assert.rejects(
    Promise.resolve(configWrites.addSensor({ sensor: { kind: 'sim', entry: { id: 't2', rate: 1, quantities: ['temperature'] } } })),
    (error: unknown) => error instanceof ApiError && error.kind === 'conflict' && error.details.field === 'sensor.entry.id',
  );
  const removed = await configWrites.removeSensor({ ref: { kind: 'sim', id: 't1' } });
  assert.match(readFileSync(file, 'utf8'), /sim:\n {4}- id: t2/);
  assert.equal((await config.read()).version, removed.version);
  await assert.rejects(
    Promise.resolve(configWrites.removeSensor({ ref: { kind: 'serial', port: '/dev/ttyUSB9' } })),
    (error: unknown) => error instanceof ApiError && error.kind === 'not-found',
  );
});

test('a stale version is a conflict carrying the current one; an invalid edit is a bad request naming the key', async (t) => {
  const { configWrites, config } = await rig(t);
  const { version: v1 } = await config.read();
  const { version: v2 } = await configWrites.update({ patch: { ui: { port: 9090 } }, version: v1 });
  await assert.rejects(
    Promise.resolve(configWrites.update({ patch: { ui: { port: 9091 } }, version: v1 })),
    (error: unknown) => error instanceof ApiError && error.kind === 'conflict' && error.details.currentVersion === v2,
  );
  await assert.rejects(
    Promise.resolve(configWrites.update({ patch: { ui: { prot: 1 } }, version: v2 })),
    (error: unknown) =>
      error instanceof ApiError &&
      error.kind === 'bad-request' &&
      error.details.field === 'ui.prot' &&
      error.details.issues?.[0]?.message === 'unknown key; did you mean "port"?',
  );
});

test('reload follows a hand edit once; an invalid hand edit is refused and the gateway keeps its config', async (t) => {
  const { file, live, applied } = await rig(t);
  assert.deepEqual(await live.reload(), { version: live.version, restarted: [], needsRestart: [] });
  assert.equal(applied.length, 0, 'an unchanged file applies nothing');
  writeFileSync(file, YAML.replace('port: 8080', 'port: 8181'));
  await live.reload();
  assert.equal(applied.at(-1)?.ui.port, 8181);
  const running = live.version;
  writeFileSync(file, YAML.replace('port: 8080', 'port: eighty'));
  await assert.rejects(live.reload(), /"ui.port"/);
  assert.equal(live.version, running);
  assert.equal(applied.length, 1);
});

test('Modbus TCP server entries are added, updated and removed by server id; a bad entry names its key', async (t) => {
  const { configWrites, applied } = await rig(t);
  const plc = { id: 'plc', host: '192.0.2.1', units: [{ unitId: 1, sensorId: 'pump-1', registers: [{ quantity: 'running', table: 'coil', address: 0 }] }] };
  await configWrites.addSensor({ sensor: { kind: 'modbusTcp', entry: plc } });
  assert.deepEqual(applied.at(-1)?.sensors.modbusTcp.map((s) => [s.id, s.host]), [['plc', '192.0.2.1']]);
  await configWrites.updateSensor({ ref: { kind: 'modbusTcp', server: 'plc' }, sensor: { kind: 'modbusTcp', entry: { ...plc, host: '192.0.2.2' } } });
  assert.equal(applied.at(-1)?.sensors.modbusTcp[0]?.host, '192.0.2.2');
  await assert.rejects(
    Promise.resolve(configWrites.updateSensor({ ref: { kind: 'modbusTcp', server: 'plc' }, sensor: { kind: 'modbusTcp', entry: { ...plc, port: 0 } } })),
    (error: unknown) => error instanceof ApiError && error.kind === 'bad-request' && error.details.field === 'sensors.modbusTcp.0.port',
  );
  await configWrites.removeSensor({ ref: { kind: 'modbusTcp', server: 'plc' } });
  assert.deepEqual(applied.at(-1)?.sensors.modbusTcp, []);
  await assert.rejects(
    Promise.resolve(configWrites.removeSensor({ ref: { kind: 'modbusTcp', server: 'plc' } })),
    (error: unknown) => error instanceof ApiError && error.kind === 'not-found' && /Modbus TCP server "plc"/.test(error.message),
  );
});
