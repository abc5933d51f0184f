import type { Logger } from '../../log/logger.js';
import type { Registry } from '../../metrics/registry.js';
import type { Clock } from '../../shared/clock.js';
import type { ModbusTcpServerConfig } from '../../shared/config/modbus.js';
import type { SampleSink, SensorStatus, Source } from '../../shared/source.js';
import { SensorActivity } from '../activity.js';
import { modbusTcpMetrics } from './metrics.js';
import { ServerPoller } from './server-poller.js';

export interface ModbusTcpSourceDeps {
  servers: ModbusTcpServerConfig[];
  sink: SampleSink;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  random?: () => number;
}

/**
 * Devices on Modbus TCP servers: one poller per configured server. A server that is unreachable
 * at start or drops the connection later is retried in the background; the others run on.
 */
export class ModbusTcpSource implements Source {
  readonly name = 'modbus-tcp';
  private readonly activity: SensorActivity;
  private pollers: ServerPoller[] = [];

  constructor(private readonly deps: ModbusTcpSourceDeps) {
    this.activity = new SensorActivity({ source: this.name, clock: deps.clock });
  }

  async start(): Promise<void> {
    const metrics = modbusTcpMetrics(this.deps.metrics);
    this.pollers = this.deps.servers.map(
      (config) =>
        new ServerPoller({ config, sink: this.deps.sink, activity: this.activity, metrics, log: this.deps.log, clock: this.deps.clock, ...(this.deps.random && { random: this.deps.random }) }),
    );
    for (const poller of this.pollers) poller.start();
    this.deps.log.info({ servers: this.deps.servers.map((s) => ({ id: s.id, host: s.host, port: s.port, units: s.units.map((u) => u.unitId) })) }, 'Modbus TCP servers configured');
  }

  async stop(): Promise<void> {
    const pollers = this.pollers;
    this.pollers = [];
    await Promise.all(pollers.map((poller) => poller.stop()));
  }

  sensors(): SensorStatus[] {
    return this.activity.statuses();
  }
}
