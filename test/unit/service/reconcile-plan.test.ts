import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../main/config/validate.js';
import { planReconcile } from '../../../main/service/reconcile-plan.js';

const base = {
  gateway: { id: 'gw-1', dataDir: '/tmp/fg' },
  cloud: { url: 'mqtts://broker:8883', caFile: '/ca.pem' },
  sensors: {
    sim: [{ id: 't1' }, { id: 't2', rate: 5 }],
    serial: [{ id: 'p1', path: '/dev/ttyUSB0', format: 'jsonl', sensorId: 'x1' }],
  },
};

function config(edit: (c: typeof base & Record<string, unknown>) => void = () => undefined) {
  const copy = structuredClone(base) as typeof base & Record<string, unknown>;
  edit(copy);
  return validateConfig(copy);
}

test('only the parts whose own config changed are planned, in config order', () => {
  assert.deepEqual(planReconcile(config(), config()), { stop: [], start: [], needsRestart: [] });
  const next = config((c) => {
    c.sensors.sim[1] = { id: 't2', rate: 6 };
    c.sensors.sim.push({ id: 't3' });
    c.sensors.serial = [];
    c.ui = { port: 9000 };
  });
  assert.deepEqual(planReconcile(config(), next), { stop: ['sim:t2', 'serial:p1', 'api'], start: ['sim:t2', 'sim:t3', 'api'], needsRestart: [] });
});

test('a cloud change restarts the uplink alone; BLE appears and goes as one part', () => {
  const ble = config((c) => { (c.sensors as Record<string, unknown>).ble = {}; c.cloud.url = 'mqtts://other:8883'; });
  assert.deepEqual(planReconcile(config(), ble), { stop: ['uplink'], start: ['ble', 'uplink'], needsRestart: [] });
  const offline = config((c) => { delete (c as Record<string, unknown>).cloud; });
  assert.deepEqual(planReconcile(config(), offline), { stop: ['uplink'], start: [], needsRestart: [] });
});

test('gateway, log, buffer, identity and ota changes wait for a service restart; the buffer is never a live part', () => {
  const next = config((c) => {
    c.gateway.id = 'gw-2';
    c.buffer = { synchronous: 'normal' };
    c.log = { level: 'debug' };
    c.ui = { session: { idleMinutes: 30 } };
  });
  const plan = planReconcile(config(), next);
  assert.deepEqual(plan.needsRestart, ['gateway', 'log', 'buffer', 'ui.session']);
  assert.deepEqual(plan.stop, ['api'], 'the API server restarts for the ui change, the sessions keep their old limits');
});

test('a Modbus TCP server is a part of its own: changing it restarts only that server', () => {
  const plc = (host: string) => ({ id: 'plc', host, units: [{ unitId: 1, sensorId: 'm1', registers: [{ quantity: 'power', address: 0 }] }] });
  const meter = { id: 'meter', host: '192.0.2.2', units: [{ unitId: 1, sensorId: 'm2', registers: [{ quantity: 'power', address: 0 }] }] };
  const before = config((c) => ((c.sensors as Record<string, unknown>).modbusTcp = [plc('192.0.2.1'), meter]));
  const after = config((c) => ((c.sensors as Record<string, unknown>).modbusTcp = [plc('192.0.2.9'), meter]));
  assert.deepEqual(planReconcile(before, after), { stop: ['modbusTcp:plc'], start: ['modbusTcp:plc'], needsRestart: [] });
});
