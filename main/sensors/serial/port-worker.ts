import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Sample } from '../../shared/reading.js';
import type { SampleSink } from '../../shared/source.js';
import type { SensorActivity } from '../activity.js';
import type { PortDiscovery } from './discovery.js';
import type { SerialMetrics } from './metrics.js';
import type { SerialLink } from '../../shared/config/serial.js';
import { PortLink, type LinkEvents, type PortOpener } from './port-link.js';

/** What every per-port worker (line reader, Modbus poller) gets from the serial source. */
export interface PortWorkerDeps {
  sink: SampleSink;
  activity: SensorActivity;
  opener: PortOpener;
  discovery: PortDiscovery;
  metrics: SerialMetrics;
  log: Logger;
  clock: Clock;
  random?: () => number;
}

export interface PortWorker {
  start(): void;
  stop(): Promise<void>;
}

const SINK_ERROR_LOG_INTERVAL_MS = 10_000;

/** Hands samples to the sink; a refusal is logged (at most once per interval), never thrown. */
export class SampleForwarder {
  private lastErrorLog = -Infinity;

  constructor(private readonly deps: { sink: SampleSink; log: Logger; clock: Clock; port: string }) {}

  forward(sample: Sample): void {
    this.deps.sink.accept(sample).catch((error: unknown) => {
      const now = this.deps.clock.now();
      if (now - this.lastErrorLog < SINK_ERROR_LOG_INTERVAL_MS) return;
      this.lastErrorLog = now;
      this.deps.log.error({ port: this.deps.port, sensor: sample.sensorId, err: error }, 'buffer refused a serial sample');
    });
  }
}

/** The link a worker reads through, wired from the worker's own deps. */
export function linkFor(deps: PortWorkerDeps & { config: SerialLink }, events: LinkEvents): PortLink {
  const { config, opener, discovery, metrics, log, random } = deps;
  return new PortLink({ config, opener, discovery, metrics, log, ...(random && { random }), events });
}
