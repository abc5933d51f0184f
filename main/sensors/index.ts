import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { SampleSink, Source } from '../shared/source.js';
import { namespaced } from '../log/logger.js';
import { BleSource, type BleAlert } from './ble/ble-source.js';
import { SerialSource } from './serial/serial-source.js';
import { SimSource } from './sim/sim-source.js';

export interface SourceDeps {
  sink: SampleSink;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  /** `gateway.dataDir`: default home of source state (the BLE allowlist). */
  dataDir: string;
  /** Where BLE replay-protection alerts go (the uplink's alerts topic). */
  onBleAlert?: (alert: BleAlert) => void;
}

/** One Source per configured sensor family; families with nothing configured are left out. */
export function createSources(sensors: Config['sensors'], deps: SourceDeps): Source[] {
  const sources: Source[] = [];
  if (sensors.sim.length > 0) {
    sources.push(new SimSource({ sensors: sensors.sim, sink: deps.sink, log: namespaced(deps.log, 'sim'), clock: deps.clock }));
  }
  if (sensors.serial.length > 0) {
    sources.push(new SerialSource({ ports: sensors.serial, sink: deps.sink, log: namespaced(deps.log, 'serial'), clock: deps.clock, metrics: deps.metrics }));
  }
  if (sensors.ble) {
    const stateDir = sensors.ble.stateDir ?? join(deps.dataDir, 'ble');
    sources.push(
      new BleSource({
        config: sensors.ble,
        stateDir,
        sink: deps.sink,
        log: namespaced(deps.log, 'ble'),
        clock: deps.clock,
        metrics: deps.metrics,
        ...(deps.onBleAlert && { onAlert: deps.onBleAlert }),
      }),
    );
  }
  return sources;
}
