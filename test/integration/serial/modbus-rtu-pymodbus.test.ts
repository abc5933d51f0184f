// The Modbus RTU master against pymodbus (Debian's python3-pymodbus: its RTU framer, decoder and
// datastore) as slaves on the far end of a socat pty pair: all four tables, a slave that does not
// answer, an exception response, the complete-only rule, and a slave restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModbusPeer, type UnitTables } from '../../helpers/modbus-peer.js';
import { SocatPair } from '../../helpers/socat.js';
import { SerialRig, waitFor } from './fixture.js';

const SLAVE_1: UnitTables = { holding: [0xff38, 0, 0x1234], input: [0, 0, 7], coils: [0, 1], discrete: [1, 0, 0, 1] };
const SLAVE_3: UnitTables = { holding: [5] };

describe('Modbus RTU master against pymodbus slaves on a pty', () => {
  const pair = new SocatPair();
  let peer: ModbusPeer;
  let rig: SerialRig;

  before(async () => {
    await pair.start();
    peer = new ModbusPeer('rtu', pair.b);
    await peer.start({ 1: SLAVE_1, 3: SLAVE_3 });
    rig = new SerialRig([
      {
        id: 'bus',
        path: pair.a,
        baudRate: 38400,
        format: 'modbus-rtu',
        intervalMs: 100,
        timeoutMs: 300,
        slaves: [
          {
            address: 1,
            sensorId: 'rtu-1',
            registers: [
              { quantity: 'temperature', unit: '°C', address: 0, type: 's16', scale: 0.1 },
              { quantity: 'energy', unit: 'Wh', address: 1, type: 'u32' },
              { quantity: 'level', table: 'input', address: 2 },
              { quantity: 'relay', table: 'coil', address: 1 },
              { quantity: 'contact', table: 'discrete', address: 0 },
              { quantity: 'tamper', table: 'discrete', address: 3 },
            ],
          },
          { address: 2, sensorId: 'rtu-2', registers: [{ quantity: 'power', address: 0 }] },
          {
            address: 3,
            sensorId: 'rtu-3',
            registers: [
              { quantity: 'flow', address: 0 },
              { quantity: 'alarm', table: 'coil', address: 40 },
            ],
          },
        ],
      },
    ]);
    await rig.start();
  });

  after(async () => {
    await rig?.dispose();
    await peer?.stop();
    await pair.dispose();
  });

  const requests = (slave: number, result: string) => rig.metric('fieldgate_serial_modbus_requests_total', { port: 'bus', slave: String(slave), result });
  const rejects = (reason: string) => rig.metric('fieldgate_serial_rejects_total', { port: 'bus', reason });

  it('reads holding and input registers, coils and discrete inputs', async () => {
    const readings = await rig.waitForReadings('rtu-1', 2);
    assert.deepEqual(readings[0]?.values, {
      temperature: { value: -20, unit: '°C' },
      energy: { value: 0x1234, unit: 'Wh' },
      level: { value: 7, unit: '' },
      relay: { value: 1, unit: 'bool' },
      contact: { value: 1, unit: 'bool' },
      tamper: { value: 1, unit: 'bool' },
    });
    assert.equal(rig.sensor('rtu-1')?.online, true);
    assert.equal(rig.sensor('rtu-1')?.port, 'bus');
  });

  it('counts a silent slave as timeouts and an exception response, and publishes no partial reading', async () => {
    await waitFor('timeouts, exceptions and partial polls', async () => (await requests(2, 'timeout')) >= 2 && (await requests(3, 'exception')) >= 2 && (await rejects('partial-poll')) >= 2);
    assert.ok((await requests(3, 'ok')) >= 2, 'the holding register of slave 3 did answer');
    assert.ok((await rejects('exception')) >= 2);
    assert.equal(await requests(1, 'bad-crc'), 0);
    for (const sensor of ['rtu-2', 'rtu-3']) {
      assert.deepEqual(rig.readings(sensor), [], sensor);
      assert.equal(rig.sensor(sensor)?.online, false, sensor);
    }
  });

  it('reads again after the slave restarts', async () => {
    await peer.stop();
    await waitFor('rtu-1 offline', () => rig.sensor('rtu-1')?.online === false);
    await peer.start({ 1: { ...SLAVE_1, holding: [250, 0, 0x1234], coils: [0, 0] }, 3: SLAVE_3 });
    await waitFor('a reading after the restart', () => rig.readings('rtu-1').some((r) => r.values.temperature?.value === 25 && r.values.relay?.value === 0));
    assert.equal(rig.sensor('rtu-1')?.online, true);
  });
});
