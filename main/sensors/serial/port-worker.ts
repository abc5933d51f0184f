import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
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

/** The link a worker reads through, wired from the worker's own deps. */
export function linkFor(deps: PortWorkerDeps & { config: SerialLink }, events: LinkEvents): PortLink {
  const { config, opener, discovery, metrics, log, random } = deps;
  return new PortLink({ config, opener, discovery, metrics, log, ...(random && { random }), events });
}
