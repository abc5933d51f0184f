import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { SocatPair } from '../../helpers/socat.js';
import { closePort, openDeviceEnd, send, SerialRig } from './fixture.js';

describe('serial line formats end-to-end over pty pairs into the SQLite buffer', () => {
  const pairs = { jsonl: new SocatPair(), csv: new SocatPair(), kv: new SocatPair() };
  const devices: Partial<Record<keyof typeof pairs, SerialPort>> = {};
  let rig: SerialRig;

  before(async () => {
    await Promise.all(Object.values(pairs).map((pair) => pair.start()));
    rig = new SerialRig([
      { id: 'json-port', path: pairs.jsonl.a, format: 'jsonl', sensorIdFrom: 'id', sensorIds: { A1: 'greenhouse-1', A2: 'greenhouse-2' } },
      {
        id: 'csv-port',
        path: pairs.csv.a,
        baudRate: 115200,
        format: 'csv',
        sensorId: 'cellar',
        ignore: '^#',
        columns: ['skip', { quantity: 'temperature', unit: '°C', scale: 0.1 }, { quantity: 'humidity', unit: '%' }],
      },
      {
        id: 'kv-port',
        path: pairs.kv.a,
        format: 'kv',
        sensorId: 'shed',
        fields: { temp: { quantity: 'temperature', unit: '°C' }, hum: { quantity: 'humidity', unit: '%' } },
      },
    ]);
    await rig.start();
    for (const [format, pair] of Object.entries(pairs)) devices[format as keyof typeof pairs] = await openDeviceEnd(pair.b);
  });

  after(async () => {
    await Promise.all(Object.values(devices).map((port) => closePort(port)));
    await rig?.dispose();
    await Promise.all(Object.values(pairs).map((pair) => pair.dispose()));
  });

  it('jsonl: objects land as readings with per-sensor seq and mapped sensor ids', async () => {
    const device = devices.jsonl as SerialPort;
    await send(device, '{"id":"A1","temperature":21.5,"rh":{"value":40,"unit":"%"}}\n{"id":"A2","temperature":19');
    await send(device, '}\r\n{"id":"A9","temperature":1}\n{"id":"A1","temperature":21.75}\n');
    const first = await rig.waitForReadings('greenhouse-1', 2);
    assert.deepEqual(
      first.map((r) => [r.seq, r.values]),
      [
        [1, { temperature: { value: 21.5, unit: '' }, rh: { value: 40, unit: '%' } }],
        [2, { temperature: { value: 21.75, unit: '' } }],
      ],
    );
    assert.deepEqual((await rig.waitForReadings('greenhouse-2', 1)).map((r) => r.values), [{ temperature: { value: 19, unit: '' } }]);
    assert.equal(await rig.metric('fieldgate_serial_rejects_total', { port: 'json-port', reason: 'unknown-sensor' }), 1);
    const status = rig.sensor('greenhouse-1');
    assert.equal(status?.online, true);
    assert.ok((status?.rate ?? 0) > 0 && status?.lastSeen !== null);
    assert.equal(status?.port, 'json-port', 'the port entry that reads it, for removeSensor');
  });

  it('jsonl: a line split at every byte offset (also inside a UTF-8 character) arrives whole', async () => {
    const device = devices.jsonl as SerialPort;
    const before = rig.readings('greenhouse-2').length;
    const line = (n: number): Buffer => Buffer.from(`{"id":"A2","t":{"value":${n},"unit":"°C"}}\n`);
    const length = line(10).length;
    for (let at = 1; at < length; at++) {
      const bytes = line(10 + at);
      await send(device, bytes.subarray(0, at));
      // Let the first part reach the reader on its own before the rest follows.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await send(device, bytes.subarray(at));
    }
    const readings = (await rig.waitForReadings('greenhouse-2', before + length - 1)).slice(before);
    assert.deepEqual(
      readings.map((r) => r.values.t),
      Array.from({ length: length - 1 }, (_, i) => ({ value: 11 + i, unit: '°C' })),
    );
  });

  it('csv: columns map to quantities with units and scale; comment lines are ignored, bad rows counted', async () => {
    const device = devices.csv as SerialPort;
    await send(device, '# time,temp,rh\n1732190000,215,55\n1732190001,oops,55\n1732190002,218\n1732190003,-12,60\n');
    const readings = await rig.waitForReadings('cellar', 2);
    assert.deepEqual(
      readings.map((r) => r.values),
      [
        { temperature: { value: 21.5, unit: '°C' }, humidity: { value: 55, unit: '%' } },
        { temperature: { value: -1.2, unit: '°C' }, humidity: { value: 60, unit: '%' } },
      ],
    );
    assert.equal(await rig.metric('fieldgate_serial_rejects_total', { port: 'csv-port', reason: 'bad-value' }), 1);
    assert.equal(await rig.metric('fieldgate_serial_rejects_total', { port: 'csv-port', reason: 'column-count' }), 1);
  });

  it('kv: garbage and binary noise are counted and skipped; the readings around them land', async () => {
    const device = devices.kv as SerialPort;
    const noise = randomBytes(5000).map((byte) => (byte === 0x0a || byte === 0x0d ? 0x00 : byte));
    await send(device, 'temp=20.5 hum=41\n');
    await send(device, Buffer.concat([Buffer.from('\n'), noise, Buffer.from('\n')]));
    await send(device, Buffer.from([0xc3, 0x28, 0x3d, 0x31, 0x0a]));
    await send(device, 'hello world\nstatus=ok\ntemp=warm\ntemp=20.75 hum=42\n');
    const readings = await rig.waitForReadings('shed', 2);
    assert.deepEqual(
      readings.map((r) => r.values),
      [
        { temperature: { value: 20.5, unit: '°C' }, humidity: { value: 41, unit: '%' } },
        { temperature: { value: 20.75, unit: '°C' }, humidity: { value: 42, unit: '%' } },
      ],
    );
    const rejects = async (reason: string): Promise<number> => rig.metric('fieldgate_serial_rejects_total', { port: 'kv-port', reason });
    assert.equal(await rejects('line-too-long'), 1, '5000 bytes of noise without a newline exceed the default 4096-byte cap');
    assert.equal(await rejects('bad-utf8'), 1);
    assert.equal(await rejects('bad-format'), 1);
    assert.equal(await rejects('no-values'), 1);
    assert.equal(await rejects('bad-value'), 1);
  });

  it('a 1 MB line without a newline is dropped whole and the port keeps reading', async () => {
    const device = devices.kv as SerialPort;
    const before = rig.readings('shed').length;
    const tooLongBefore = await rig.metric('fieldgate_serial_rejects_total', { port: 'kv-port', reason: 'line-too-long' });
    await send(device, Buffer.alloc(1024 * 1024, 'temp=1 '));
    await send(device, 'hum=5\ntemp=19 hum=50\n');
    const readings = await rig.waitForReadings('shed', before + 1, 60_000);
    assert.deepEqual(readings.at(-1)?.values, { temperature: { value: 19, unit: '°C' }, humidity: { value: 50, unit: '%' } });
    assert.equal(readings.length, before + 1, 'nothing of the 1 MB line became a reading');
    assert.equal(await rig.metric('fieldgate_serial_rejects_total', { port: 'kv-port', reason: 'line-too-long' }), tooLongBefore + 1);
  });
});

describe('serial jsonl without fields over a pty: non-finite and oversized readings are counted', () => {
  const pair = new SocatPair();
  let device: SerialPort | undefined;
  let rig: SerialRig;

  before(async () => {
    await pair.start();
    rig = new SerialRig([{ id: 'loose-json', path: pair.a, format: 'jsonl', sensorId: 'loose', maxLineBytes: 256 * 1024 }]);
    await rig.start();
    device = await openDeviceEnd(pair.b);
  });

  after(async () => {
    if (device) await closePort(device);
    await rig?.dispose();
    await pair.dispose();
  });

  it('counts {"v":1e400} as bad-value and a 10,000-key line as too-many-values; the lines around them land', async () => {
    const port = device as SerialPort;
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 1])));
    await send(port, '{"n":1}\n{"n":3,"v":1e400}\n');
    await send(port, `${wide}\n`);
    await send(port, '{"n":2}\n');
    const readings = await rig.waitForReadings('loose', 2);
    assert.deepEqual(
      readings.map((r) => r.values),
      [{ n: { value: 1, unit: '' } }, { n: { value: 2, unit: '' } }],
    );
    const rejects = async (reason: string): Promise<number> => rig.metric('fieldgate_serial_rejects_total', { port: 'loose-json', reason });
    assert.equal(await rejects('bad-value'), 1);
    assert.equal(await rejects('too-many-values'), 1, 'the line fits maxLineBytes, so the value cap is what stops it');
    assert.equal(await rejects('line-too-long'), 0);
  });
});
