import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { hasValidCrc, withCrc } from '../../../main/sensors/serial/modbus/crc16.js';
import { SocatPair } from '../../helpers/socat.js';
import { closePort, openDeviceEnd, SerialRig, waitFor } from './fixture.js';

type Behaviour = 'good' | 'bad-crc' | 'exception' | 'silence';

interface SeenRequest {
  slave: number;
  fn: number;
  address: number;
  count: number;
}

/**
 * Modbus RTU slaves on the device end of the pty: answers read requests from register tables,
 * or with a corrupted CRC, an exception (illegal data address) or not at all, per slave.
 * Good answers are written in two parts, so the master must reassemble them.
 */
class SimulatedSlaves {
  readonly behaviour = new Map<number, Behaviour>();
  readonly holding = new Map<number, number[]>();
  readonly input = new Map<number, number[]>();
  readonly requests: SeenRequest[] = [];
  badRequests = 0;
  private received = Buffer.alloc(0);
  private port: SerialPort | undefined;

  /** Connects the slaves to (a new) device end, as after replugging the adapter. */
  attach(port: SerialPort): void {
    this.port = port;
    this.received = Buffer.alloc(0);
    port.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    while (this.received.length >= 8) {
      const frame = this.received.subarray(0, 8);
      this.received = this.received.subarray(8);
      if (!hasValidCrc(frame)) {
        this.badRequests++;
        continue;
      }
      const request = { slave: frame[0] as number, fn: frame[1] as number, address: frame.readUInt16BE(2), count: frame.readUInt16BE(4) };
      this.requests.push(request);
      this.answer(request);
    }
  }

  private answer(request: SeenRequest): void {
    const behaviour = this.behaviour.get(request.slave) ?? 'silence';
    const port = this.port;
    if (behaviour === 'silence' || !port?.isOpen) return;
    if (behaviour === 'exception') {
      port.write(withCrc(Buffer.from([request.slave, request.fn | 0x80, 0x02])));
      return;
    }
    const table = (request.fn === 3 ? this.holding : this.input).get(request.slave) ?? [];
    const body = Buffer.alloc(3 + request.count * 2);
    body.writeUInt8(request.slave, 0);
    body.writeUInt8(request.fn, 1);
    body.writeUInt8(request.count * 2, 2);
    for (let i = 0; i < request.count; i++) body.writeUInt16BE(table[request.address + i] ?? 0, 3 + i * 2);
    const frame = withCrc(body);
    if (behaviour === 'bad-crc') frame[frame.length - 1] = (frame[frame.length - 1] as number) ^ 0x5a;
    const cut = Math.floor(frame.length / 2);
    port.write(frame.subarray(0, cut));
    setTimeout(() => port.isOpen && port.write(frame.subarray(cut)), 3);
  }
}

describe('Modbus RTU master against slaves simulated on a real pty pair', () => {
  const pair = new SocatPair();
  let device: SerialPort | undefined;
  let slaves: SimulatedSlaves;
  let rig: SerialRig;

  before(async () => {
    await pair.start();
    device = await openDeviceEnd(pair.b);
    slaves = new SimulatedSlaves();
    slaves.attach(device);
    slaves.behaviour.set(1, 'good').set(2, 'exception').set(3, 'silence').set(4, 'bad-crc');
    // Slave 1: holding 0 = 21.5 °C as s16 * 0.1; holding 1-2 = 230.5 V as float32 (0x43668000); input 5 = 42.
    slaves.holding.set(1, [215, 0x4366, 0x8000]);
    slaves.input.set(1, [0, 0, 0, 0, 0, 42]);
    slaves.holding.set(4, [7]);
    rig = new SerialRig([
      {
        id: 'rtu',
        path: pair.a,
        baudRate: 19200,
        parity: 'even',
        format: 'modbus-rtu',
        intervalMs: 100,
        timeoutMs: 250,
        slaves: [
          {
            address: 1,
            sensorId: 'meter-1',
            registers: [
              { quantity: 'temperature', unit: '°C', address: 0, type: 's16', scale: 0.1 },
              { quantity: 'voltage', unit: 'V', address: 1, type: 'float32' },
              { quantity: 'pulses', table: 'input', address: 5 },
            ],
          },
          { address: 2, sensorId: 'meter-2', registers: [{ quantity: 'power', unit: 'W', address: 10, type: 'u32' }] },
          { address: 3, sensorId: 'meter-3', registers: [{ quantity: 'power', unit: 'W', address: 0 }] },
          { address: 4, sensorId: 'flow-4', registers: [{ quantity: 'flow', unit: 'l/min', address: 0 }] },
        ],
      },
    ]);
    await rig.start();
  });

  after(async () => {
    await rig?.dispose();
    await closePort(device);
    await pair.dispose();
  });

  const rejects = (reason: string): Promise<number> => rig.metric('fieldgate_serial_rejects_total', { port: 'rtu', reason });
  const requests = (slave: number, result: string): Promise<number> =>
    rig.metric('fieldgate_serial_modbus_requests_total', { port: 'rtu', slave: String(slave), result });

  it('reads and decodes register blocks from a good slave into the buffer', async () => {
    const readings = await rig.waitForReadings('meter-1', 2);
    assert.deepEqual(readings[0]?.values, {
      temperature: { value: 21.5, unit: '°C' },
      voltage: { value: 230.5, unit: 'V' },
      pulses: { value: 42, unit: '' },
    });
    assert.deepEqual(readings.slice(0, 2).map((r) => r.seq), [1, 2]);
    assert.equal(slaves.badRequests, 0, 'every request carried a valid CRC');
    const slave1 = slaves.requests.filter((r) => r.slave === 1);
    assert.deepEqual(slave1.slice(0, 2), [
      { slave: 1, fn: 3, address: 0, count: 3 },
      { slave: 1, fn: 4, address: 5, count: 1 },
    ]);

    slaves.holding.set(1, [0xffd8, 0x4366, 0x8000]);
    await waitFor('a negative temperature', () => rig.readings('meter-1').some((r) => r.values.temperature?.value === -4));
  });

  it('counts exception responses, timeouts and bad CRCs without storing readings for them', async () => {
    await waitFor('exceptions, timeouts and bad CRCs counted', async () => (await requests(2, 'exception')) >= 2 && (await requests(3, 'timeout')) >= 2 && (await requests(4, 'bad-crc')) >= 2);
    assert.ok((await rejects('exception')) >= 2);
    assert.ok((await rejects('timeout')) >= 2);
    assert.ok((await rejects('bad-crc')) >= 2);
    assert.equal(await requests(1, 'bad-crc'), 0);
    for (const sensor of ['meter-2', 'meter-3', 'flow-4']) {
      assert.deepEqual(rig.readings(sensor), [], sensor);
      assert.equal(rig.sensor(sensor)?.online, false, sensor);
      assert.equal(rig.sensor(sensor)?.lastSeen, null, sensor);
    }
    assert.equal(rig.sensor('meter-1')?.online, true);
  });

  it('recovers when a slave starts answering and marks it offline when it falls silent', async () => {
    slaves.behaviour.set(4, 'good');
    const readings = await rig.waitForReadings('flow-4', 1);
    assert.deepEqual(readings[0]?.values, { flow: { value: 7, unit: 'l/min' } });
    await waitFor('flow-4 online', () => rig.sensor('flow-4')?.online === true);

    slaves.behaviour.set(4, 'silence');
    const timeoutsBefore = await requests(4, 'timeout');
    await waitFor('flow-4 offline', () => rig.sensor('flow-4')?.online === false);
    assert.ok((await requests(4, 'timeout')) >= timeoutsBefore + 3, 'offline only after three unanswered polls');
    assert.equal(rig.sensor('meter-1')?.online, true, 'the other slaves on the bus are unaffected');
  });

  it('marks every slave offline when the adapter is unplugged and polls again after replug', async () => {
    await closePort(device);
    await pair.unplug();
    await waitFor('meter-1 offline', () => rig.sensor('meter-1')?.online === false);
    assert.equal(await rig.metric('fieldgate_serial_port_open', { port: 'rtu' }), 0);

    await pair.replug();
    device = await openDeviceEnd(pair.b);
    slaves.attach(device);
    slaves.holding.set(1, [230, 0x4366, 0x8000]);
    await waitFor('a reading after replug', () => rig.readings('meter-1').some((r) => r.values.temperature?.value === 23));
    assert.equal(rig.sensor('meter-1')?.online, true);
    const seqs = rig.readings('meter-1').map((r) => r.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'seq continues across the replug');
  });
});
