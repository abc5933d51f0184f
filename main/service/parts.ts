import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { Component } from '../shared/lifecycle.js';
import type { SampleSink, SensorStatus, Source } from '../shared/source.js';
import { namespaced } from '../log/logger.js';
import { BleSource, type BleAlert } from '../sensors/ble/ble-source.js';
import { ModbusTcpSource } from '../sensors/modbus-tcp/modbus-tcp-source.js';
import { SerialSource } from '../sensors/serial/serial-source.js';
import { SimSource } from '../sensors/sim/sim-source.js';
import { bleStateDir } from '../config/location.js';

/** A source under the name of its live part (`sim:t1`, `serial:p1`, `modbusTcp:plc1`), so each config entry is supervised on its own. */
export class NamedSource implements Source {
  constructor(readonly name: string, readonly inner: Source) {}

  start(signal: AbortSignal): Promise<void> {
    return this.inner.start(signal);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  sensors(): SensorStatus[] {
    return this.inner.sensors();
  }
}

/**
 * A component that listens on the gateway's event bus only while it runs: `attach` subscribes and
 * returns the unsubscribers. A replaced component thus stops hearing events before it stops.
 */
export class Attached<C extends Component> implements Component {
  private detach: (() => void)[] = [];

  constructor(readonly inner: C, private readonly attach: (inner: C) => (() => void)[]) {}

  get name(): string {
    return this.inner.name;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.detach = this.attach(this.inner);
    await this.inner.start(signal);
  }

  async stop(): Promise<void> {
    for (const off of this.detach) off();
    this.detach = [];
    await this.inner.stop();
  }
}

/**
 * Runs `build` and notes the metrics it registered, so that the part can be built again on the
 * same registry after a config change (prom-client refuses a second metric of one name).
 */
export function withOwnMetrics<T>(registry: Registry, build: () => T): { built: T; release: () => void } {
  const before = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
  const built = build();
  const own = registry.getMetricsAsArray().map((metric) => metric.name).filter((name) => !before.has(name));
  return { built, release: () => own.forEach((name) => registry.removeSingleMetric(name)) };
}

export interface SourceDeps {
  sink: SampleSink;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  /** BLE replay-protection alerts, for the uplink's alerts topic. */
  onBleAlert?: (alert: BleAlert) => void;
}

/** The source of one sensor part: `sim:<id>`, `serial:<port id>` or `modbusTcp:<server id>` (one per entry), or `ble`. */
export function createSource(part: string, config: Config, deps: SourceDeps): { source: Source; release: () => void } {
  const [family, id] = part.split(/:(.*)/s) as [string, string | undefined];
  const sensors = config.sensors;
  if (family === 'sim') {
    const entry = sensors.sim.find((s) => s.id === id);
    if (!entry) throw new Error(`no sim sensor "${id}" in config`);
    const source = new SimSource({ sensors: [entry], sink: deps.sink, log: namespaced(deps.log, 'sim'), clock: deps.clock });
    return { source: new NamedSource(part, source), release: () => undefined };
  }
  if (family === 'serial') {
    const entry = sensors.serial.find((p) => p.id === id);
    if (!entry) throw new Error(`no serial port "${id}" in config`);
    const source = new SerialSource({ ports: [entry], sink: deps.sink, log: namespaced(deps.log, 'serial'), clock: deps.clock, metrics: deps.metrics });
    return { source: new NamedSource(part, source), release: () => undefined };
  }
  if (family === 'modbusTcp') {
    const entry = sensors.modbusTcp.find((s) => s.id === id);
    if (!entry) throw new Error(`no Modbus TCP server "${id}" in config`);
    const source = new ModbusTcpSource({ servers: [entry], sink: deps.sink, log: namespaced(deps.log, 'modbus-tcp'), clock: deps.clock, metrics: deps.metrics });
    return { source: new NamedSource(part, source), release: () => undefined };
  }
  if (family === 'ble' && sensors.ble) {
    const ble = sensors.ble;
    const stateDir = bleStateDir(config);
    const { built, release } = withOwnMetrics(deps.metrics, () =>
      new BleSource({
        config: ble,
        stateDir,
        sink: deps.sink,
        log: namespaced(deps.log, 'ble'),
        clock: deps.clock,
        metrics: deps.metrics,
        ...(deps.onBleAlert && { onAlert: deps.onBleAlert }),
      }),
    );
    return { source: built, release };
  }
  throw new Error(`"${part}" is not a sensor part of this config`);
}
