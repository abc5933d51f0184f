import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { GatewayApi } from '../shared/api.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { Component } from '../shared/lifecycle.js';
import type { Sample } from '../shared/reading.js';
import type { SampleSink, Source } from '../shared/source.js';
import { createGatewayApi, type StatusReporter } from '../api/gateway-api.js';
import { ApiServer } from '../api/http-server.js';
import { namespaced } from '../log/logger.js';
import { SensorMetrics } from '../metrics/sensor-metrics.js';
import { SqliteBuffer } from '../buffer/sqlite-buffer.js';
import { createDeviceIdentity, usesOnBoxIdentity } from '../identity/device-identity.js';
import { createSources } from '../sensors/index.js';
import { FIELDGATE_VERSION } from '../shared/version.js';
import { configuredCredentialProvider } from '../uplink/credentials.js';
import { Uplink } from '../uplink/uplink.js';
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
  buffer: SqliteBuffer;
  /** Absent when no cloud is configured: readings are buffered until one is. */
  uplink: Uplink | undefined;
  api: GatewayApi;
  /** Present when the UI is enabled. */
  apiServer: ApiServer | undefined;
}

/** Composition root: builds every component from config and orders them by dependency. */
export function buildGateway(deps: GatewayDeps): Gateway {
  const { config, clock } = deps;
  let uplink: Uplink | undefined;
  const buffer = new SqliteBuffer({
    file: config.buffer.path ?? join(config.gateway.dataDir, 'buffer.db'),
    options: config.buffer,
    log: namespaced(deps.log, 'buffer'),
    clock,
    metrics: deps.metrics,
    onAlert: (alert) => uplink?.publishAlert({ type: 'buffer-alert', ...alert }),
  });
  // The on-box identity (issue 6) provides the uplink's key and certificate and rotates them;
  // cloud.certFile/keyFile naming other files means an externally managed identity instead.
  const identity = createDeviceIdentity({
    config,
    log: deps.log,
    clock,
    metrics: deps.metrics,
    onAlert: (alert) => uplink?.publishAlert({ type: 'identity-alert', ...alert }),
  });
  const onBoxIdentity = usesOnBoxIdentity(config, identity.store) ? identity : undefined;
  if (config.cloud) {
    uplink = new Uplink({
      buffer,
      config: config.cloud,
      gatewayId: config.gateway.id,
      credentials: onBoxIdentity ? onBoxIdentity.credentials.provide : configuredCredentialProvider(config.cloud),
      log: namespaced(deps.log, 'uplink'),
      clock,
      metrics: deps.metrics,
      version: FIELDGATE_VERSION,
    });
  }
  // Sources meet the uplink only here: a durable append wakes the sender.
  const sink: SampleSink = {
    async accept(sample: Sample) {
      await buffer.accept(sample);
      sensorMetrics.observe(sample);
      uplink?.wake();
    },
  };
  const sources = createSources(config.sensors, {
    sink,
    log: deps.log,
    clock,
    metrics: deps.metrics,
    dataDir: config.gateway.dataDir,
    onBleAlert: (alert) => uplink?.publishAlert({ type: 'ble-alert', ...alert }),
  });
  const sensorMetrics = new SensorMetrics({ registry: deps.metrics, sources });
  const reporters: StatusReporter[] = [{ name: 'buffer', status: () => buffer.stats(clock.now()) }];
  if (uplink) reporters.push(uplink);
  const components: Component[] = [
    buffer,
    ...(onBoxIdentity ? [onBoxIdentity.monitor] : []),
    ...sources,
    ...(uplink ? [uplink] : []),
    ...(onBoxIdentity && uplink ? [onBoxIdentity.rotation(uplink)] : []),
  ];

  const built: { supervisor?: Supervisor } = {};
  const api = createGatewayApi({
    gatewayId: deps.config.gateway.id,
    startedAt: new Date(deps.clock.now()),
    components: () => built.supervisor?.report() ?? [],
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
  const supervisor = new Supervisor({ components, log: namespaced(deps.log, 'service'), stopTimeoutMs: 10_000 });
  built.supervisor = supervisor;
  return { supervisor, sources, buffer, uplink, api, apiServer };
}
