import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../shared/config/schema.js';

/**
 * Names of the parts that follow the config while running: `sim:<id>`, `serial:<port id>` and
 * `modbusTcp:<server id>` (one per entry), `ble`, `uplink` (the cloud section) and `api` (the ui section). Each maps to the slice
 * of config it is built from; absent when that part is not configured.
 */
export function liveParts(config: Config): Map<string, unknown> {
  const parts = new Map<string, unknown>();
  for (const sensor of config.sensors.sim) parts.set(`sim:${sensor.id}`, sensor);
  for (const port of config.sensors.serial) parts.set(`serial:${port.id}`, port);
  for (const server of config.sensors.modbusTcp) parts.set(`modbusTcp:${server.id}`, server);
  if (config.sensors.ble) parts.set('ble', config.sensors.ble);
  if (config.cloud) parts.set('uplink', config.cloud);
  if (config.ui.enabled) parts.set('api', config.ui);
  return parts;
}

/** Sections the running gateway cannot swap underneath itself (the buffer never restarts): they apply at the next start. */
// The log level is copied into every module's child logger when it is made, so it needs a restart too.
const RESTART_SECTIONS = ['gateway', 'log', 'buffer', 'identity', 'ota'] as const;

export interface ReconcilePlan {
  /** Parts to stop, in this order. */
  stop: string[];
  /** Parts to (re)start with the new config, in this order. */
  start: string[];
  /** Sections that changed but only take effect when the service restarts. */
  needsRestart: string[];
}

/** What has to happen for the running gateway to match `next`: only the parts whose own config changed. */
export function planReconcile(previous: Config, next: Config): ReconcilePlan {
  const before = liveParts(previous);
  const after = liveParts(next);
  const changed = (name: string) => !isDeepStrictEqual(before.get(name), after.get(name));
  return {
    stop: [...before.keys()].filter(changed),
    start: [...after.keys()].filter(changed),
    needsRestart: [
      ...RESTART_SECTIONS.filter((section) => !isDeepStrictEqual(previous[section], next[section])),
      // Sessions outlive the API server (they are in the control API, built once), and so do their limits.
      ...(isDeepStrictEqual(previous.ui.session, next.ui.session) ? [] : ['ui.session']),
    ],
  };
}
