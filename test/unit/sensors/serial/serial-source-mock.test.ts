import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { SerialPortMock } from 'serialport';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../../main/metrics/registry.js';
import { systemClock } from '../../../../main/shared/clock.js';
import type { Sample } from '../../../../main/shared/reading.js';
import { serialPortSchema } from '../../../../main/shared/config/serial.js';
import { SystemPortDiscovery } from '../../../../main/sensors/serial/discovery.js';
import type { PortOpener } from '../../../../main/sensors/serial/port-link.js';
import { SerialSource } from '../../../../main/sensors/serial/serial-source.js';

// The binding-mock instance SerialPortMock really uses (importing @serialport/binding-mock from ESM
// would load a second copy of the module with its own, empty port table).
const MockBinding = SerialPortMock.binding;

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Opens `SerialPortMock`s (fake at the wire) and remembers them so the test can feed bytes in. */
function mockOpener(): { opener: PortOpener; ports: SerialPortMock[] } {
  const ports: SerialPortMock[] = [];
  const opener: PortOpener = (settings) => {
    const port = new SerialPortMock({ ...settings, autoOpen: false });
    ports.push(port);
    return port;
  };
  return { opener, ports };
}

function emit(port: SerialPortMock | undefined, data: Buffer | string): void {
  assert.ok(port?.port, 'port is open');
  port.port.emitData(data);
}

describe('SerialSource over the mock binding', () => {
  afterEach(() => MockBinding.reset());

  it('turns kv lines into samples, counts rejects by reason and reports sensor status', async () => {
    MockBinding.createPort('/dev/ttyMOCK0');
    const samples: Sample[] = [];
    const registry = createMetricsRegistry({ processMetrics: false });
    const { opener, ports } = mockOpener();
    const config = serialPortSchema.parse({ id: 'mock', path: '/dev/ttyMOCK0', format: 'kv', sensorIdFrom: 'id', maxLineBytes: 32 });
    const source = new SerialSource({
      ports: [config],
      sink: { accept: async (sample) => void samples.push(sample) },
      log: silentLogger,
      clock: systemClock,
      metrics: registry,
      opener,
    });
    await source.start();
    try {
      await waitFor('port open', () => ports[0]?.isOpen);
      emit(ports[0], 'id=a1 temp=21.5 hum=40\r\nid=a1 te');
      emit(ports[0], Buffer.from([0xff, 0xfe, 0x0a]));
      emit(ports[0], `${'z'.repeat(100)}\nid=b2 temp=-4\n`);
      await waitFor('two samples', () => samples.length >= 2);

      assert.deepEqual(
        samples.map((s) => [s.sensorId, s.values]),
        [
          ['a1', { temp: { value: 21.5, unit: '' }, hum: { value: 40, unit: '' } }],
          ['b2', { temp: { value: -4, unit: '' } }],
        ],
      );
      const rejects = await registry.getSingleMetric('fieldgate_serial_rejects_total')?.get();
      assert.deepEqual(
        Object.fromEntries((rejects?.values ?? []).map((v) => [v.labels.reason, v.value])),
        { 'bad-utf8': 1, 'line-too-long': 1 },
        'the split line "id=a1 te" plus binary is one bad line; the 100-byte line is too long',
      );
      const statuses = source.sensors();
      assert.deepEqual(statuses.map((s) => [s.sensorId, s.source, s.online]).sort(), [
        ['a1', 'serial', true],
        ['b2', 'serial', true],
      ]);
    } finally {
      await source.stop();
    }
    assert.ok(source.sensors().every((s) => !s.online));
  });

  it('keeps retrying a port that is missing at start and reads it once it appears', async () => {
    const samples: Sample[] = [];
    const { opener, ports } = mockOpener();
    const config = serialPortSchema.parse({ id: 'late', path: '/dev/ttyMOCK1', format: 'jsonl', sensorId: 'late-1' });
    const source = new SerialSource({
      ports: [config],
      sink: { accept: async (sample) => void samples.push(sample) },
      log: silentLogger,
      clock: systemClock,
      metrics: createMetricsRegistry({ processMetrics: false }),
      opener,
    });
    await source.start();
    try {
      await waitFor('a failed open attempt', () => ports.length >= 1);
      assert.deepEqual(source.sensors().map((s) => [s.sensorId, s.online]), [['late-1', false]]);
      MockBinding.createPort('/dev/ttyMOCK1');
      const open = await waitFor('port open', () => ports.find((p) => p.isOpen));
      emit(open, '{"co2":415}\n');
      await waitFor('a sample', () => samples.length >= 1);
      assert.deepEqual(samples[0]?.values, { co2: { value: 415, unit: '' } });
    } finally {
      await source.stop();
    }
  });

  it('rate-limits a babbling port per its maxLinesPerSecond and counts the excess', async () => {
    MockBinding.createPort('/dev/ttyMOCK3');
    const samples: Sample[] = [];
    const registry = createMetricsRegistry({ processMetrics: false });
    const { opener, ports } = mockOpener();
    const frozen = { now: () => 1_700_000_000_000 };
    const config = serialPortSchema.parse({ id: 'babble', path: '/dev/ttyMOCK3', format: 'kv', sensorId: 'b', maxLinesPerSecond: 5 });
    const source = new SerialSource({ ports: [config], sink: { accept: async (s) => void samples.push(s) }, log: silentLogger, clock: frozen, metrics: registry, opener });
    await source.start();
    try {
      await waitFor('port open', () => ports[0]?.isOpen);
      emit(ports[0], Array.from({ length: 50 }, (_, i) => `n=${i}\n`).join(''));
      const rejects = async (): Promise<number> => (await registry.getSingleMetric('fieldgate_serial_rejects_total')?.get())?.values.find((v) => v.labels.reason === 'rate-limited')?.value ?? 0;
      await waitFor('45 rate-limited lines', async () => (await rejects()) === 45);
      assert.deepEqual(samples.map((s) => s.values.n?.value), [0, 1, 2, 3, 4]);
    } finally {
      await source.stop();
    }
  });

  it('marks a sensor offline after staleAfterMs without data, and online again with the next line', async () => {
    MockBinding.createPort('/dev/ttyMOCK4');
    const { opener, ports } = mockOpener();
    const config = serialPortSchema.parse({ id: 'quiet', path: '/dev/ttyMOCK4', format: 'jsonl', sensorId: 'q', staleAfterMs: 100 });
    const source = new SerialSource({ ports: [config], sink: { accept: async () => {} }, log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }), opener });
    await source.start();
    try {
      await waitFor('port open', () => ports[0]?.isOpen);
      emit(ports[0], '{"t":1}\n');
      await waitFor('online', () => source.sensors()[0]?.online === true);
      await waitFor('stale', () => source.sensors()[0]?.online === false);
      emit(ports[0], '{"t":2}\n');
      await waitFor('online again', () => source.sensors()[0]?.online === true);
    } finally {
      await source.stop();
    }
  });

  it('finds a port by USB vendor/product/serial through sysfs when udevadm is unavailable', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fieldgate-match-'));
    try {
      const usbDevice = join(root, 'sys/devices/usb1/1-3');
      mkdirSync(join(usbDevice, '1-3:1.0/ttyUSB7'), { recursive: true });
      for (const [name, value] of [['idVendor', '10c4'], ['idProduct', 'ea60'], ['serial', '0001']]) writeFileSync(join(usbDevice, name as string), `${value}\n`);
      mkdirSync(join(root, 'sys/class/tty/ttyUSB7'), { recursive: true });
      symlinkSync(join(usbDevice, '1-3:1.0/ttyUSB7'), join(root, 'sys/class/tty/ttyUSB7/device'));
      const devicePath = join(root, 'dev/ttyUSB7');
      MockBinding.createPort(devicePath);
      const samples: Sample[] = [];
      const { opener, ports } = mockOpener();
      const config = serialPortSchema.parse({ id: 'cp2102', match: { vendorId: '10C4', productId: 'ea60', serialNumber: '0001' }, format: 'kv', sensorId: 'cp' });
      const discovery = new SystemPortDiscovery({
        log: silentLogger,
        sysRoot: join(root, 'sys'),
        devRoot: join(root, 'dev'),
        udevList: () => Promise.reject(new Error('spawn udevadm ENOENT')),
      });
      const source = new SerialSource({ ports: [config], sink: { accept: async (s) => void samples.push(s) }, log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }), opener, discovery });
      await source.start();
      try {
        const open = await waitFor('matched port open', () => ports.find((p) => p.isOpen));
        assert.equal(open.path, devicePath);
        emit(open, 'v=3.3\n');
        await waitFor('a sample', () => samples.length === 1);
      } finally {
        await source.stop();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
