import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { Component } from '../shared/lifecycle.js';
import type { Sample } from '../shared/reading.js';
import type { SampleSink, Source } from '../shared/source.js';
import { Counter } from 'prom-client';
import { namespaced } from '../log/logger.js';
import { createSources } from '../sensors/index.js';
import { Supervisor } from './supervisor.js';

export interface GatewayDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  metrics: Registry;
}

export interface Gateway {
  supervisor: Supervisor;
  sources: Source[];
}

/** Composition root: builds every component from config and orders them by dependency. */
export function buildGateway(deps: GatewayDeps): Gateway {
  const produced = new Counter({
    name: 'fieldgate_samples_produced_total',
    help: 'Samples handed over by sources',
    labelNames: ['sensor'],
    registers: [deps.metrics],
  });
  const sink: SampleSink = {
    async accept(sample: Sample) {
      produced.inc({ sensor: sample.sensorId });
    },
  };
  const sources = createSources(deps.config.sensors, { sink, log: deps.log, clock: deps.clock });
  const components: Component[] = [...sources];
  const supervisor = new Supervisor({ components, log: namespaced(deps.log, 'service'), stopTimeoutMs: 10_000 });
  return { supervisor, sources };
}
