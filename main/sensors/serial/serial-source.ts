import type { Logger } from '../../log/logger.js';
import type { Registry } from '../../metrics/registry.js';
import type { Clock } from '../../shared/clock.js';
import type { SerialPortConfig } from '../../shared/config/serial.js';
import type { SampleSink, SensorStatus, Source } from '../../shared/source.js';
import { SensorActivity } from '../activity.js';
import { SystemPortDiscovery, type PortDiscovery } from './discovery.js';
import { LinePortReader } from './line-reader.js';
import { serialMetrics } from './metrics.js';
import { ModbusPoller } from './modbus/poller.js';
import { systemPortOpener, type PortOpener } from './port-link.js';
import type { PortWorker, PortWorkerDeps } from './port-worker.js';

export interface SerialSourceDeps {
  ports: SerialPortConfig[];
  sink: SampleSink;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  /** The wire seam: real serial ports unless a test passes `SerialPortMock`. */
  opener?: PortOpener;
  discovery?: PortDiscovery;
  random?: () => number;
}

/**
 * Sensors on serial ports (USB adapters, UARTs): one worker per configured port. A port that is
 * missing at start or disappears later is retried in the background; the others run on.
 */
export class SerialSource implements Source {
  readonly name = 'serial';
  private readonly activity: SensorActivity;
  private workers: PortWorker[] = [];

  constructor(private readonly deps: SerialSourceDeps) {
    this.activity = new SensorActivity({ source: this.name, clock: deps.clock });
  }

  async start(): Promise<void> {
    const shared: PortWorkerDeps = {
      sink: this.deps.sink,
      activity: this.activity,
      opener: this.deps.opener ?? systemPortOpener,
      discovery: this.deps.discovery ?? new SystemPortDiscovery({ log: this.deps.log }),
      metrics: serialMetrics(this.deps.metrics),
      log: this.deps.log,
      clock: this.deps.clock,
      ...(this.deps.random && { random: this.deps.random }),
    };
    this.workers = this.deps.ports.map((config) =>
      config.format === 'modbus-rtu' ? new ModbusPoller({ ...shared, config }) : new LinePortReader({ ...shared, config }),
    );
    for (const worker of this.workers) worker.start();
    this.deps.log.info({ ports: this.deps.ports.map((p) => ({ id: p.id, format: p.format, path: p.path ?? p.match })) }, 'serial ports configured');
  }

  async stop(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((worker) => worker.stop()));
  }

  sensors(): SensorStatus[] {
    return this.activity.statuses();
  }
}
