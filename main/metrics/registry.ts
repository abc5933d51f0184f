import { Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry };

/**
 * One registry per gateway instance (never prom-client's global one), passed in deps, so tests
 * and several gateways in one process do not collide. Metric names start with `fieldgate_`.
 */
export function createMetricsRegistry(options: { processMetrics: boolean }): Registry {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'fieldgate_' });
  return registry;
}
