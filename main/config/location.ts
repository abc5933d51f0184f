import { join } from 'node:path';
import type { Config } from '../shared/config/schema.js';

/**
 * Where the service's config lives. Not under /etc: the unit's ProtectSystem=strict makes /etc
 * read-only, and live edits (API, UI) rewrite the file atomically next to itself, so it sits in
 * the state directory the unit may write.
 */
export const DEFAULT_CONFIG_FILE = '/var/lib/fieldgate/config/fieldgate.yaml';

/** An explicit path wins, then `FIELDGATE_CONFIG`, then the default. */
export function configFileFrom(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit ?? (env.FIELDGATE_CONFIG || DEFAULT_CONFIG_FILE);
}

// Everything the gateway keeps lives under `gateway.dataDir` unless the config moves it.

/** `buffer.path`, or `<gateway.dataDir>/buffer.db`. */
export function bufferFile(config: Pick<Config, 'gateway' | 'buffer'>): string {
  return config.buffer.path ?? join(config.gateway.dataDir, 'buffer.db');
}

/** `<gateway.dataDir>/alerts.db`: active and recent alerts and their outbox. */
export function alertsFile(config: Pick<Config, 'gateway'>): string {
  return join(config.gateway.dataDir, 'alerts.db');
}

/** `sensors.ble.stateDir`, or `<gateway.dataDir>/ble`: allowlist, sealed bind keys, replay counters. */
export function bleStateDir(config: Pick<Config, 'gateway' | 'sensors'>): string {
  return config.sensors.ble?.stateDir ?? join(config.gateway.dataDir, 'ble');
}

/** `identity.dir`, or `<gateway.dataDir>/identity`. */
export function identityDir(config: Pick<Config, 'gateway' | 'identity'>): string {
  return config.identity.dir ?? join(config.gateway.dataDir, 'identity');
}

/** `ota.rootDir`, or `<gateway.dataDir>/ota`. */
export function otaRootFor(config: Pick<Config, 'ota' | 'gateway'>): string {
  return config.ota?.rootDir ?? join(config.gateway.dataDir, 'ota');
}

/** `<gateway.dataDir>/api`: accounts, setup code, status token, the self-signed HTTPS pair. */
export function apiDataDir(dataDir: string): string {
  return join(dataDir, 'api');
}

/** `<gateway.dataDir>/cloud-ca`: CA files uploaded through the setup UI. */
export function cloudCaDir(config: Pick<Config, 'gateway'>): string {
  return join(config.gateway.dataDir, 'cloud-ca');
}
