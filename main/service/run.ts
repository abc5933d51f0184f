import type { LogRing } from '../log/log-ring.js';
import type { Logger } from '../log/logger.js';
import type { Config } from '../shared/config/schema.js';
import { ConfigDocument } from '../config/document.js';
import { ConfigError } from '../shared/errors.js';
import { refuseExposedKeys } from '../identity/preflight.js';
import { namespaced } from '../log/logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { otaRootFor } from '../config/location.js';
import { systemClock } from '../shared/clock.js';
import { buildGateway, type Gateway } from './gateway.js';
import { SystemdNotifier } from './systemd-notify.js';
import { confirmUpdateWhenHealthy } from './update-confirmation.js';

export interface RunOptions {
  /** Runs after every component stopped, before the process exits (the demo closes its broker here). */
  afterStop?: () => Promise<void>;
  /** The ring the logger feeds (`createLogger({ ring })`), for the API's log view. */
  logs?: LogRing;
  /** The file `config` came from: the gateway then follows edits to it, and SIGHUP reloads it. */
  configFile?: string;
}

/**
 * Runs the gateway until SIGTERM or SIGINT, then stops every component in reverse order (the
 * buffer flushes its pending group commit) and exits. A second signal while stopping exits at once.
 * SIGHUP (`systemctl reload`) re-reads the config file and restarts only what changed.
 */
export async function runUntilSignalled(given: Config, log: Logger, options: RunOptions = {}): Promise<Gateway> {
  const document = options.configFile === undefined ? undefined : new ConfigDocument({ file: options.configFile, env: process.env });
  const snapshot = await document?.read();
  const config = snapshot?.config ?? given;
  refuseExposedKeys(config);
  const gateway = buildGateway({
    config,
    log,
    clock: systemClock,
    metrics: createMetricsRegistry({ processMetrics: true }),
    ...(options.logs && { logs: options.logs }),
    ...(document && snapshot && { file: { document, version: snapshot.version } }),
  });
  const serviceLog = namespaced(log, 'service');
  logUnhandledRejections(serviceLog);
  const systemd = new SystemdNotifier({ env: process.env, log: serviceLog });
  const stopping = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.signal.aborted) {
      serviceLog.warn({ signal }, 'second signal while stopping: exiting now');
      log.flush();
      process.exit(130);
    }
    stopping.abort();
    systemd.stopping();
    serviceLog.info({ signal }, 'stopping');
    void gateway.supervisor
      .stop()
      .then(() => options.afterStop?.())
      .finally(() => {
        serviceLog.info('stopped');
        log.flush();
        process.exit(0);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    if (!gateway.live) {
      serviceLog.warn('SIGHUP ignored: this gateway was not started from a config file');
      return;
    }
    serviceLog.info({ file: options.configFile }, 'SIGHUP: reloading config');
    gateway.live.reload().catch((error: unknown) => {
      const problems = error instanceof ConfigError ? error.problems : [String(error)];
      serviceLog.error({ problems }, 'config not reloaded, the gateway runs on with the previous one');
    });
  });
  await gateway.supervisor.start();
  const components = gateway.supervisor.report();
  serviceLog.info({ gateway: config.gateway.id, components }, 'gateway running');
  const failed = components.filter((c) => c.state === 'failed').map((c) => c.name);
  systemd.ready(failed.length === 0 ? 'running' : `running; failed: ${failed.join(', ')}`);
  void confirmUpdateWhenHealthy({
    components: () => gateway.supervisor.report(),
    uplink: () => gateway.uplink?.status(),
    otaRoot: config.ota ? otaRootFor(config) : undefined,
    clock: systemClock,
    log: namespaced(log, 'ota'),
    signal: stopping.signal,
  });
  return gateway;
}

/**
 * A promise rejection nobody handles is a bug, but exiting on it (Node's default) turns one failed
 * background task into a restart loop that stops every sensor: it is logged, and the gateway runs on.
 */
export function logUnhandledRejections(log: Logger): void {
  process.on('unhandledRejection', (reason: unknown) => {
    log.error({ err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason) }, 'unhandled promise rejection (a bug); the gateway runs on');
  });
}
