import type { Logger } from '../log/logger.js';
import type { Config } from '../shared/config/schema.js';
import { namespaced } from '../log/logger.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { systemClock } from '../shared/clock.js';
import { buildGateway, type Gateway } from './gateway.js';

/**
 * Runs the gateway until SIGTERM or SIGINT, then stops every component in reverse order.
 * A second signal while stopping exits at once.
 */
export async function runUntilSignalled(config: Config, log: Logger): Promise<Gateway> {
  const gateway = buildGateway({ config, log, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: true }) });
  const serviceLog = namespaced(log, 'service');
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      serviceLog.warn({ signal }, 'second signal while stopping: exiting now');
      process.exit(130);
    }
    serviceLog.info({ signal }, 'stopping');
    stopping = gateway.supervisor.stop().then(() => {
      serviceLog.info('stopped');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await gateway.supervisor.start();
  serviceLog.info({ gateway: config.gateway.id, components: gateway.supervisor.report() }, 'gateway running');
  return gateway;
}
