// The Modbus TCP source against pymodbus (Debian's python3-pymodbus, an independent implementation)
// serving on a loopback port, into a real SQLite buffer: all four tables, a unit that does not
// answer, an exception response, the complete-only rule, and a server restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModbusTcpSource } from '../../../main/sensors/modbus-tcp/modbus-tcp-source.js';
import { systemClock } from '../../../main/shared/clock.js';
import { modbusTcpServersSchema } from '../../../main/shared/config/modbus.js';
import { ModbusPeer, type UnitTables } from '../../helpers/modbus-peer.js';
import { freePort } from '../../helpers/net.js';
import { SourceRig, waitFor } from '../serial/fixture.js';

// Unit 1: holding 0 = 21.5 °C (s16 * 0.1), holding 1-2 = 230.5 V (float32); input 5 = 42; coils 0 and 2 on; discrete 1 on.
const UNIT_1: UnitTables = { holding: [215, 0x4366, 0x8000], input: [0, 0, 0, 0, 0, 42], coils: [1, 0, 1], discrete: [0, 1] };
// Unit 3 has 4 holding registers: its input register 50 does not exist (exception 2, illegal data address).
const UNIT_3: UnitTables = { holding: [7, 0, 0, 0] };

describe('Modbus TCP source against a pymodbus server', () => {
  let peer: ModbusPeer;
  let rig: SourceRig<ModbusTcpSource>;

  before(async () => {
    const port = await freePort();
    peer = new ModbusPeer('tcp', port);
    await peer.start({ 1: UNIT_1, 3: UNIT_3 });
    const servers = modbusTcpServersSchema.parse([
      {
        id: 'plc',
        host: '127.0.0.1',
        port,
        intervalMs: 100,
        timeoutMs: 300,
        units: [
          {
            unitId: 1,
            sensorId: 'meter-1',
            registers: [
              { quantity: 'temperature', unit: '°C', address: 0, type: 's16', scale: 0.1 },
              { quantity: 'voltage', unit: 'V', address: 1, type: 'float32' },
              { quantity: 'pulses', table: 'input', address: 5 },
              { quantity: 'pump', table: 'coil', address: 0 },
              { quantity: 'valve', table: 'coil', address: 1 },
              { quantity: 'alarm', table: 'coil', address: 2 },
              { quantity: 'door', table: 'discrete', address: 1 },
            ],
          },
          { unitId: 2, sensorId: 'absent-2', registers: [{ quantity: 'power', unit: 'W', address: 0 }] },
          {
            unitId: 3,
            sensorId: 'flow-3',
            registers: [
              { quantity: 'flow', unit: 'l/min', address: 0 },
              { quantity: 'total', table: 'input', address: 50, type: 'u32' },
            ],
          },
        ],
      },
    ]);
    rig = new SourceRig(({ sink, metrics, log }) => new ModbusTcpSource({ servers, sink, metrics, log, clock: systemClock }));
    await rig.start();
  });

  after(async () => {
    await rig?.dispose();
    await peer?.stop();
  });

  const requests = (unit: number, result: string) => rig.metric('fieldgate_modbus_tcp_requests_total', { server: 'plc', unit: String(unit), result });
  const rejects = (reason: string) => rig.metric('fieldgate_modbus_tcp_rejects_total', { server: 'plc', reason });

  it('reads holding and input registers, coils and discrete inputs, booleans as 1/0 with unit bool', async () => {
    const readings = await rig.waitForReadings('meter-1', 2);
    assert.deepEqual(readings[0]?.values, {
      temperature: { value: 21.5, unit: '°C' },
      voltage: { value: 230.5, unit: 'V' },
      pulses: { value: 42, unit: '' },
      pump: { value: 1, unit: 'bool' },
      valve: { value: 0, unit: 'bool' },
      alarm: { value: 1, unit: 'bool' },
      door: { value: 1, unit: 'bool' },
    });
    assert.deepEqual(readings.slice(0, 2).map((r) => r.seq), [1, 2]);
    assert.equal(rig.sensor('meter-1')?.online, true);
    assert.equal(rig.sensor('meter-1')?.server, 'plc');
    assert.equal(await rig.metric('fieldgate_modbus_tcp_connected', { server: 'plc' }), 1);
  });

  it('counts a unit that does not answer as timeouts and keeps it offline without readings', async () => {
    await waitFor('timeouts of unit 2', async () => (await requests(2, 'timeout')) >= 2);
    assert.ok((await rejects('timeout')) >= 2);
    assert.deepEqual(rig.readings('absent-2'), []);
    assert.equal(rig.sensor('absent-2')?.online, false);
    assert.equal(rig.sensor('absent-2')?.lastSeen, null);
  });

  it('counts an exception response and publishes no partial reading of that unit', async () => {
    await waitFor('exceptions and partial polls of unit 3', async () => (await requests(3, 'exception')) >= 2 && (await rejects('partial-poll')) >= 2);
    assert.ok((await requests(3, 'ok')) >= 2, 'the holding register of unit 3 did answer');
    assert.ok((await rejects('exception')) >= 2);
    assert.deepEqual(rig.readings('flow-3'), [], 'flow alone would be a partial reading');
    assert.equal(rig.sensor('flow-3')?.online, false);
    assert.match(peer.log(), /IllegalAddress/, 'pymodbus answered with an exception');
  });

  it('marks the units offline when the server goes away and reads again after it restarts', async () => {
    await peer.stop();
    await waitFor('meter-1 offline', () => rig.sensor('meter-1')?.online === false);
    assert.equal(await rig.metric('fieldgate_modbus_tcp_connected', { server: 'plc' }), 0);

    await peer.start({ 1: { ...UNIT_1, holding: [230, 0x4366, 0x8000], coils: [0, 0, 0] }, 3: UNIT_3 });
    await waitFor('a reading after the restart', () => rig.readings('meter-1').some((r) => r.values.temperature?.value === 23 && r.values.pump?.value === 0));
    assert.equal(rig.sensor('meter-1')?.online, true);
    assert.ok((await rig.metric('fieldgate_modbus_tcp_reconnects_total', { server: 'plc' })) >= 1);
    const seqs = rig.readings('meter-1').map((r) => r.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'seq continues across the restart');
  });
});
