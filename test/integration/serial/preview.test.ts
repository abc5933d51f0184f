// The setup preview over real pty pairs: a technician's proposed settings, the gateway's own parser,
// nothing saved; a port a configured sensor reads is refused unless that sensor is paused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { silentLogger } from '../../../main/log/logger.js';
import { SystemPortDiscovery } from '../../../main/sensors/serial/discovery.js';
import { PreviewRefusedError, SerialSetup, type ConfiguredSerialPorts, type SerialPreviewEvent } from '../../../main/sensors/serial/preview.js';
import { systemClock } from '../../../main/shared/clock.js';
import { serialPortSchema, type SerialPortConfig } from '../../../main/shared/config/serial.js';
import { SocatPair } from '../../helpers/socat.js';
import { closePort, openDeviceEnd, send, SerialRig, waitFor } from './harness.js';

const CSV_SETTINGS = {
  baudRate: 115200,
  format: 'csv',
  sensorId: 'cellar',
  ignore: '^#',
  columns: ['skip', { quantity: 'temperature', unit: '°C', scale: 0.1 }, { quantity: 'humidity', unit: '%' }],
};

function collector(): { events: SerialPreviewEvent[]; listener: (event: SerialPreviewEvent) => void; end: () => Promise<Extract<SerialPreviewEvent, { kind: 'end' }>> } {
  const events: SerialPreviewEvent[] = [];
  return {
    events,
    listener: (event) => events.push(event),
    end: () => waitFor('the end of the preview', () => events.find((e): e is Extract<SerialPreviewEvent, { kind: 'end' }> => e.kind === 'end')),
  };
}

const noConfiguredPorts: ConfiguredSerialPorts = {
  configured: () => [],
  pause: () => Promise.reject(new Error('nothing to pause')),
  resume: () => Promise.reject(new Error('nothing to resume')),
};

describe('serial preview over a pty pair', () => {
  const pair = new SocatPair();
  let device: SerialPort;
  const setup = new SerialSetup({ ports: noConfiguredPorts, discovery: new SystemPortDiscovery({ log: silentLogger }), log: silentLogger, clock: systemClock });

  before(async () => {
    await pair.start();
    device = await openDeviceEnd(pair.b);
  });

  after(async () => {
    await setup.stopAll();
    await closePort(device);
    await pair.dispose();
  });

  it('streams each raw line with the parsed values, the reject reason, or that it is ignored', async () => {
    const { events, listener, end } = collector();
    const started = await setup.start({ port: { path: pair.a, ...CSV_SETTINGS } }, listener);
    assert.equal(started.path, pair.a);
    assert.ok(Date.parse(started.endsAt) > Date.now());
    await send(device, '# cellar logger v2\nA,215,40\nA,hot,40\r\nA,1,2,3\n');
    await waitFor('four lines', () => events.filter((e) => e.kind === 'line').length >= 4 || undefined);
    const lines = events.filter((e) => e.kind === 'line');
    assert.deepEqual(
      lines.map((e) => [e.raw, e.result]),
      [
        ['# cellar logger v2', { outcome: 'ignored' }],
        ['A,215,40', { outcome: 'parsed', sensorId: 'cellar', values: { temperature: { value: 21.5, unit: '°C' }, humidity: { value: 40, unit: '%' } } }],
        ['A,hot,40', { outcome: 'rejected', reason: 'bad-value', detail: lines[2]?.result.outcome === 'rejected' ? lines[2].result.detail : '' }],
        ['A,1,2,3', { outcome: 'rejected', reason: 'column-count', detail: lines[3]?.result.outcome === 'rejected' ? lines[3].result.detail : '' }],
      ],
    );
    assert.ok(lines.every((e) => e.previewId === started.previewId));
    assert.equal(await setup.stop(started.previewId), true);
    const ended = await end();
    assert.deepEqual({ ...ended, previewId: undefined }, { previewId: undefined, kind: 'end', reason: 'stopped', lines: 4, dropped: 0 });
    assert.equal(await setup.stop(started.previewId), false, 'an ended preview cannot be stopped again');
  });

  it('ends by itself when its time is up, and lets go of the port', async () => {
    const first = collector();
    await setup.start({ port: { path: pair.a, format: 'kv', sensorId: 'shed' }, durationMs: 300 }, first.listener);
    assert.equal((await first.end()).reason, 'timeout');
    const second = collector();
    const again = await setup.start({ port: { path: pair.a, format: 'kv', sensorId: 'shed' } }, second.listener);
    await send(device, 'temp=4.5 hum=80\n');
    const line = await waitFor('a kv line', () => second.events.find((e) => e.kind === 'line'));
    assert.deepEqual(line.kind === 'line' && line.result, { outcome: 'parsed', sensorId: 'shed', values: { temp: { value: 4.5, unit: '' }, hum: { value: 80, unit: '' } } });
    await setup.stop(again.previewId);
  });

  it('refuses bad settings, naming the key, and formats it cannot preview', async () => {
    await assert.rejects(
      setup.start({ port: { path: pair.a, format: 'csv', sensorId: 'x', columns: ['skip'], baudRate: -5 } }, () => {}),
      (error: unknown) => error instanceof PreviewRefusedError && error.code === 'invalid-settings' && /"baudRate"/.test(error.message) && /"columns"/.test(error.message),
    );
    await assert.rejects(
      setup.start({ port: { path: pair.a, format: 'modbus-rtu', slaves: [{ address: 1, sensorId: 'm', registers: [{ quantity: 'p', address: 0 }] }] } }, () => {}),
      (error: unknown) => error instanceof PreviewRefusedError && error.code === 'not-a-line-format',
    );
    await assert.rejects(
      setup.start({ port: { path: `${pair.dir}/missing`, format: 'kv', sensorId: 'shed' } }, () => {}),
      (error: unknown) => error instanceof PreviewRefusedError && error.code === 'open-failed',
    );
  });
});

describe('serial preview of a port a configured sensor reads', () => {
  const pair = new SocatPair();
  let device: SerialPort;
  let rig: SerialRig;
  let config: SerialPortConfig;
  const calls: string[] = [];

  before(async () => {
    await pair.start();
    device = await openDeviceEnd(pair.b);
    const port = { id: 'cellar-port', path: pair.a, ...CSV_SETTINGS };
    config = serialPortSchema.parse(port);
    rig = new SerialRig([port]);
    await rig.start();
  });

  after(async () => {
    await closePort(device);
    await rig?.dispose();
    await pair.dispose();
  });

  /** The source opens its port in the background: send until a reading shows it was read. */
  async function readingAfter(line: string): Promise<void> {
    const before = rig.readings('cellar').length;
    await waitFor(`a reading from ${line.trim()}`, async () => {
      await send(device, line);
      await new Promise((resolve) => setTimeout(resolve, 100));
      return rig.readings('cellar').length > before || undefined;
    });
  }

  it('is refused unless the caller pauses that sensor, which reads again once the preview ends', async () => {
    // The configured source stands in for the running gateway: pausing stops its port, resuming reopens it.
    const ports: ConfiguredSerialPorts = {
      configured: () => [config],
      pause: async (portId) => {
        calls.push(`pause ${portId}`);
        await rig.source.stop();
      },
      resume: async (portId) => {
        calls.push(`resume ${portId}`);
        await rig.source.start();
      },
    };
    const setup = new SerialSetup({ ports, discovery: new SystemPortDiscovery({ log: silentLogger }), log: silentLogger, clock: systemClock });
    await readingAfter('A,200,50\n');
    await assert.rejects(
      setup.start({ port: { path: pair.a, ...CSV_SETTINGS } }, () => {}),
      (error: unknown) => error instanceof PreviewRefusedError && error.code === 'port-in-use' && /"cellar-port"/.test(error.message),
    );
    assert.deepEqual(calls, [], 'a refused preview pauses nothing');

    const { events, listener, end } = collector();
    const started = await setup.start({ port: { path: pair.a, ...CSV_SETTINGS, columns: ['skip', { quantity: 'raw' }, 'skip'] }, pauseSensor: true }, listener);
    assert.equal(started.pausedPort, 'cellar-port');
    await send(device, 'A,201,51\n');
    const line = await waitFor('the preview line', () => events.find((e) => e.kind === 'line'));
    assert.deepEqual(line.kind === 'line' && line.result, { outcome: 'parsed', sensorId: 'cellar', values: { raw: { value: 201, unit: '' } } });
    await setup.stop(started.previewId);
    await end();
    assert.deepEqual(calls, ['pause cellar-port', 'resume cellar-port']);

    await readingAfter('A,202,52\n');
    assert.deepEqual(rig.readings('cellar').at(-1)?.values, { temperature: { value: 20.2, unit: '°C' }, humidity: { value: 52, unit: '%' } });
  });
});
