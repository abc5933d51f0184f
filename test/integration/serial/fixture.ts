import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { LeasedReading } from '../../../main/buffer/types.js';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { createLogger, silentLogger, type Logger } from '../../../main/log/logger.js';
import { createMetricsRegistry, type Registry } from '../../../main/metrics/registry.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';
import { systemClock } from '../../../main/shared/clock.js';
import { serialPortSchema, type SerialPortConfig } from '../../../main/shared/config/serial.js';
import { SerialSource } from '../../../main/sensors/serial/serial-source.js';
import type { SensorStatus, Source } from '../../../main/shared/source.js';

/** `SERIAL_TEST_LOG=debug node --test …` shows the source's log lines when a test needs explaining. */
const sourceLog: Logger = process.env.SERIAL_TEST_LOG ? createLogger({ level: process.env.SERIAL_TEST_LOG }) : silentLogger;

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What a rig's source is built from: the rig's buffer as sink, its registry and the test logger. */
export interface RigDeps {
  sink: SqliteBuffer;
  metrics: Registry;
  log: Logger;
}

/** A real SQLite buffer in a temp dir feeding from a real source; readings are read back with lease. */
export class SourceRig<S extends Source = Source> {
  readonly dir = mkdtempSync(join(tmpdir(), 'fieldgate-serial-'));
  readonly metrics: Registry = createMetricsRegistry({ processMetrics: false });
  readonly buffer = new SqliteBuffer({
    file: join(this.dir, 'buffer.db'),
    options: bufferSchema.parse({}),
    log: silentLogger,
    clock: systemClock,
    metrics: this.metrics,
  });
  readonly source: S;
  private readonly leased: LeasedReading[] = [];

  constructor(build: (deps: RigDeps) => S) {
    this.source = build({ sink: this.buffer, metrics: this.metrics, log: sourceLog });
  }

  async start(): Promise<void> {
    const signal = new AbortController().signal;
    await this.buffer.start(signal);
    await this.source.start(signal);
  }

  async dispose(): Promise<void> {
    await this.source.stop();
    await this.buffer.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Every reading accepted so far for `sensorId`, in seq order (leases what is new, keeps what was leased before). */
  readings(sensorId: string): LeasedReading[] {
    this.leased.push(...this.buffer.lease({ max: 100_000 }));
    return this.leased.filter((r) => r.sensorId === sensorId).sort((a, b) => a.seq - b.seq);
  }

  async waitForReadings(sensorId: string, count: number, timeoutMs?: number): Promise<LeasedReading[]> {
    return waitFor(`${count} readings of ${sensorId}`, () => {
      const found = this.readings(sensorId);
      return found.length >= count && found;
    }, timeoutMs);
  }

  async metric(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await this.metrics.getSingleMetric(name)?.get();
    const match = metric?.values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value));
    return match?.value ?? 0;
  }

  sensor(sensorId: string): SensorStatus | undefined {
    return this.source.sensors().find((s) => s.sensorId === sensorId);
  }
}

/** A rig reading the serial `ports` (raw config entries, validated here). */
export class SerialRig extends SourceRig<SerialSource> {
  constructor(ports: unknown[]) {
    const configs: SerialPortConfig[] = ports.map((port) => serialPortSchema.parse(port));
    super(({ sink, metrics, log }) => new SerialSource({ ports: configs, sink, log, clock: systemClock, metrics }));
  }
}

/** The device end of a pty pair, as a real serial port the test writes to (and reads from). */
export async function openDeviceEnd(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  port.on('error', () => {});
  return port;
}

export function send(port: SerialPort, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(data, (error) => (error ? reject(error) : port.drain((drainError) => (drainError ? reject(drainError) : resolve()))));
  });
}

export function closePort(port: SerialPort | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!port?.isOpen) return resolve();
    port.close(() => resolve());
  });
}
