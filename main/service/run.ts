import type { Logger } from '../log/logger.js';
import type { Config } from '../shared/config/schema.js';
import { refuseExposedKeys } from '../identity/preflight.js';
import { namespaced } from '../log/logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { otaRootFor } from '../ota/paths.js';
import { systemClock } from '../shared/clock.js';
import { buildGateway, type Gateway } from './gateway.js';
import { SystemdNotifier } from './systemd-notify.js';
import { confirmUpdateWhenHealthy } from './update-confirmation.js';

export interface RunOptions {
  /** Runs after every component stopped, before the process exits (the demo closes its broker here). */
  afterStop?: () => Promise<void>;
}

/**
 * Runs the gateway until SIGTERM or SIGINT, then stops every component in reverse order (the
 * buffer flushes its pending group commit) and exits. A second signal while stopping exits at once.
 */
export async function runUntilSignalled(config: Config, log: Logger, options: RunOptions = {}): Promise<Gateway> {
  refuseExposedKeys(config);
  const gateway = buildGateway({ config, log, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: true }) });
  const serviceLog = namespaced(log, 'service');
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
