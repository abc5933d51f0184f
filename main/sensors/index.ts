import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { SampleSink, Source } from '../shared/source.js';
import { namespaced } from '../log/logger.js';
import { SimSource } from './sim/sim-source.js';

export interface SourceDeps {
  sink: SampleSink;
  log: Logger;
  clock: Clock;
}

/** One Source per configured sensor family; families with nothing configured are left out. */
export function createSources(sensors: Config['sensors'], deps: SourceDeps): Source[] {
  const sources: Source[] = [];
  if (sensors.sim.length > 0) {
    sources.push(new SimSource({ sensors: sensors.sim, sink: deps.sink, log: namespaced(deps.log, 'sim'), clock: deps.clock }));
  }
  return sources;
}
