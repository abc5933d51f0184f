import type { Logger } from '../log/logger.js';
import type { Config } from '../shared/config/schema.js';
import { namespaced } from '../log/logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { systemClock } from '../shared/clock.js';
import { buildGateway, type Gateway } from './gateway.js';

export interface RunOptions {
  /** Runs after every component stopped, before the process exits (the demo closes its broker here). */
  afterStop?: () => Promise<void>;
}

/**
 * Runs the gateway until SIGTERM or SIGINT, then stops every component in reverse order (the
 * buffer flushes its pending group commit) and exits. A second signal while stopping exits at once.
 */
export async function runUntilSignalled(config: Config, log: Logger, options: RunOptions = {}): Promise<Gateway> {
  const gateway = buildGateway({ config, log, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: true }) });
  const serviceLog = namespaced(log, 'service');
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      serviceLog.warn({ signal }, 'second signal while stopping: exiting now');
      log.flush();
      process.exit(130);
    }
    stopping = true;
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
  serviceLog.info({ gateway: config.gateway.id, components: gateway.supervisor.report() }, 'gateway running');
  return gateway;
}
