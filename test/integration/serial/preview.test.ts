// The setup preview over real pty pairs: a technician's proposed settings, the gateway's own parser,
// nothing saved; a port a configured sensor reads is refused unless that sensor is paused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { silentLogger } from '../../../main/log/logger.js';
import { SystemPortDiscovery } from '../../../main/sensors/serial/discovery.js';
import { SerialSetup, type ConfiguredSerialPorts } from '../../../main/sensors/serial/preview.js';
import { ApiError, apiEventSchema, apiMethods, type ApiEvent, type ApiErrorKind } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import { serialPortSchema, type SerialPortConfig } from '../../../main/shared/config/serial.js';
import { SocatPair } from '../../helpers/socat.js';
import { closePort, openDeviceEnd, send, SerialRig, waitFor } from './fixture.js';

const CSV_SETTINGS = {
  baudRate: 115200,
  format: 'csv',
  sensorId: 'cellar',
  ignore: '^#',
  columns: ['skip', { quantity: 'temperature', unit: '°C', scale: 0.1 }, { quantity: 'humidity', unit: '%' }],
};

type Line = Extract<ApiEvent, { type: 'serial-preview' }>;
type Ended = Extract<ApiEvent, { type: 'serial-preview-ended' }>;

/** The event stream the API would fan out, per preview. */
class Events {
  readonly all: ApiEvent[] = [];
  publish(event: ApiEvent): void {
    this.all.push(apiEventSchema.parse(event));
  }
  lines(previewId: string): Line[] {
    return this.all.filter((e): e is Line => e.type === 'serial-preview' && e.previewId === previewId);
  }
  ended(previewId: string): Promise<Ended> {
    return waitFor('the end of the preview', () => this.all.find((e): e is Ended => e.type === 'serial-preview-ended' && e.previewId === previewId));
  }
}

function apiError(kind: ApiErrorKind, pattern: RegExp, field?: string) {
  return (error: unknown) => error instanceof ApiError && error.kind === kind && pattern.test(error.message) && (field === undefined || error.details.field === field);
}

const noConfiguredPorts: ConfiguredSerialPorts = {
  configured: () => [],
  pause: () => Promise.reject(new Error('nothing to pause')),
  resume: () => Promise.reject(new Error('nothing to resume')),
};

const preview = (entry: Record<string, unknown>, extra: { pauseSensors?: boolean; durationSeconds?: number } = {}) => ({
  entry,
  pauseSensors: extra.pauseSensors ?? false,
  durationSeconds: extra.durationSeconds ?? 60,
});

describe('serial preview over a pty pair', () => {
  const pair = new SocatPair();
  const events = new Events();
  let device: SerialPort;
  const setup = new SerialSetup({ ports: noConfiguredPorts, discovery: new SystemPortDiscovery({ log: silentLogger }), events, log: silentLogger, clock: systemClock });

  before(async () => {
    await pair.start();
    device = await openDeviceEnd(pair.b);
  });

  after(async () => {
    await setup.stop();
    await closePort(device);
    await pair.dispose();
  });

  it('streams each raw line with the parsed values, the reject reason, or that it is ignored', async () => {
    const started = apiMethods.startSerialPreview.result.parse(await setup.startPreview(apiMethods.startSerialPreview.input.parse({ entry: { path: pair.a, ...CSV_SETTINGS } })));
    assert.ok(Date.parse(started.deadline) > Date.now());
    await send(device, '# cellar logger v2\nA,215,40\nA,hot,40\r\nA,1,2,3\n');
    const lines = await waitFor('four lines', () => events.lines(started.previewId).length >= 4 && events.lines(started.previewId));
    assert.deepEqual(
      lines.map((e) => [e.raw, e.result.ok ? e.result.readings : e.result.reason]),
      [
        ['# cellar logger v2', 'ignored'],
        ['A,215,40', [{ sensorId: 'cellar', values: [{ quantity: 'temperature', value: 21.5, unit: '°C' }, { quantity: 'humidity', value: 40, unit: '%' }] }]],
        ['A,hot,40', 'bad-value'],
        ['A,1,2,3', 'column-count'],
      ],
    );
    assert.ok(lines.every((e) => !Number.isNaN(Date.parse(e.at))));
    assert.deepEqual(await setup.stopPreview({ previewId: started.previewId }), { ok: true });
    assert.deepEqual(await events.ended(started.previewId), { type: 'serial-preview-ended', previewId: started.previewId, reason: 'stopped' });
    await assert.rejects(setup.stopPreview({ previewId: started.previewId }), apiError('not-found', /no serial preview/, 'previewId'));
  });

  it('ends by itself at its deadline, and lets go of the port', async () => {
    const first = await setup.startPreview(preview({ path: pair.a, format: 'kv', sensorId: 'shed' }, { durationSeconds: 1 }));
    assert.equal((await events.ended(first.previewId)).reason, 'deadline');
    const again = await setup.startPreview(preview({ path: pair.a, format: 'kv', sensorId: 'shed' }));
    await send(device, 'temp=4.5 hum=80\n');
    const [line] = await waitFor('a kv line', () => events.lines(again.previewId).length > 0 && events.lines(again.previewId));
    assert.deepEqual(line?.result, { ok: true, readings: [{ sensorId: 'shed', values: [{ quantity: 'temp', value: 4.5, unit: '' }, { quantity: 'hum', value: 80, unit: '' }] }] });
    await assert.rejects(setup.startPreview(preview({ path: pair.a, format: 'kv', sensorId: 'shed' })), apiError('conflict', /running already/, 'entry.path'));
    await setup.stopPreview({ previewId: again.previewId });
  });

  it('refuses bad settings naming the key, formats it cannot preview, and ports it cannot open', async () => {
    await assert.rejects(setup.startPreview(preview({ path: pair.a, format: 'csv', sensorId: 'x', columns: ['skip'], baudRate: -5 })), (error: unknown) => {
      assert.ok(error instanceof ApiError && error.kind === 'bad-request');
      assert.deepEqual(error.details.issues?.map((issue) => issue.path).sort(), ['entry.baudRate', 'entry.columns']);
      return true;
    });
    await assert.rejects(
      setup.startPreview(preview({ path: pair.a, format: 'modbus-rtu', slaves: [{ address: 1, sensorId: 'm', registers: [{ quantity: 'p', address: 0 }] }] })),
      apiError('bad-request', /modbus-rtu is polled/, 'entry.format'),
    );
    await assert.rejects(setup.startPreview(preview({ path: `${pair.dir}/missing`, format: 'kv', sensorId: 'shed' })), apiError('bad-request', /cannot open/, 'entry.path'));
  });
});

describe('serial preview of a port a configured sensor reads', () => {
  const pair = new SocatPair();
  const events = new Events();
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
    const setup = new SerialSetup({ ports, discovery: new SystemPortDiscovery({ log: silentLogger }), events, log: silentLogger, clock: systemClock });

    await readingAfter('A,200,50\n');
    await assert.rejects(setup.startPreview(preview({ path: pair.a, ...CSV_SETTINGS })), (error: unknown) => {
      assert.ok(error instanceof ApiError && error.kind === 'conflict', String(error));
      assert.match(error.message, /read by the configured serial port "cellar-port"/);
      assert.match(error.details.hint ?? '', /pauseSensors/);
      return true;
    });
    assert.deepEqual(calls, [], 'a refused preview pauses nothing');

    const started = await setup.startPreview(preview({ path: pair.a, ...CSV_SETTINGS, columns: ['skip', { quantity: 'raw' }, 'skip'] }, { pauseSensors: true }));
    assert.deepEqual(calls, ['pause cellar-port']);
    await send(device, 'A,201,51\n');
    const [line] = await waitFor('the preview line', () => events.lines(started.previewId).length > 0 && events.lines(started.previewId));
    assert.deepEqual(line?.result, { ok: true, readings: [{ sensorId: 'cellar', values: [{ quantity: 'raw', value: 201, unit: '' }] }] });
    await setup.stopPreview({ previewId: started.previewId });
    await events.ended(started.previewId);
    assert.deepEqual(calls, ['pause cellar-port', 'resume cellar-port']);

    await readingAfter('A,202,52\n');
    assert.deepEqual(rig.readings('cellar').at(-1)?.values, { temperature: { value: 20.2, unit: '°C' }, humidity: { value: 52, unit: '%' } });
  });

  it('answers unavailable when the configured port cannot be paused, and tries to resume it', async () => {
    const attempts: string[] = [];
    const setup = new SerialSetup({
      ports: {
        configured: () => [config],
        pause: async (portId) => {
          attempts.push(`pause ${portId}`);
          throw new Error('the part is restarting');
        },
        resume: async (portId) => {
          attempts.push(`resume ${portId}`);
        },
      },
      discovery: new SystemPortDiscovery({ log: silentLogger }),
      events,
      log: silentLogger,
      clock: systemClock,
    });
    await assert.rejects(setup.startPreview(preview({ path: pair.a, ...CSV_SETTINGS }, { pauseSensors: true })), apiError('unavailable', /could not pause the configured serial port "cellar-port"/));
    assert.deepEqual(attempts, ['pause cellar-port', 'resume cellar-port']);
  });
});
