import { fileURLToPath } from 'node:url';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { GatewayApi } from '../shared/api.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { Component } from '../shared/lifecycle.js';
import type { Sample } from '../shared/reading.js';
import type { SampleSink, Source } from '../shared/source.js';
import { Counter } from 'prom-client';
import { createGatewayApi, type StatusReporter } from '../api/gateway-api.js';
import { ApiServer } from '../api/http-server.js';
import { namespaced } from '../log/logger.js';
import { createSources } from '../sensors/index.js';
import { Supervisor } from './supervisor.js';

const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

export interface GatewayDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  metrics: Registry;
}

export interface Gateway {
  supervisor: Supervisor;
  sources: Source[];
  api: GatewayApi;
  /** Present when the UI is enabled. */
  apiServer: ApiServer | undefined;
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
  const reporters: StatusReporter[] = [];
  const components: Component[] = [...sources];

  let supervisor: Supervisor | undefined;
  const api = createGatewayApi({
    gatewayId: deps.config.gateway.id,
    startedAt: new Date(deps.clock.now()),
    components: () => supervisor?.report() ?? [],
    sources,
    reporters,
  });
  const ui = deps.config.ui;
  const apiServer = ui.enabled
    ? new ApiServer({
        api,
        metrics: deps.metrics,
        host: ui.host,
        port: ui.port,
        tokenFile: ui.tokenFile,
        staticDir: RENDERER_DIR,
        log: namespaced(deps.log, 'api'),
      })
    : undefined;
  if (apiServer) components.push(apiServer);
  supervisor = new Supervisor({ components, log: namespaced(deps.log, 'service'), stopTimeoutMs: 10_000 });
  return { supervisor, sources, api, apiServer };
}
