import { existsSync, lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../shared/config/schema.js';
import { identityDir } from './paths.js';
import { destroyFile } from './secure-files.js';

export interface WipeReport {
  /** Overwritten with random bytes, then unlinked. */
  destroyed: string[];
  /** Unlinked (bulk data such as the buffer). */
  removed: string[];
}

function destroyTree(path: string, report: WipeReport): void {
  if (!existsSync(path)) return;
  const stats = lstatSync(path);
  if (stats.isDirectory()) {
    for (const entry of readdirSync(path)) destroyTree(join(path, entry), report);
    rmdirSync(path);
  } else if (stats.isSymbolicLink()) {
    unlinkSync(path);
    report.removed.push(path);
  } else if (destroyFile(path)) {
    report.destroyed.push(path);
  }
}

function removeFile(path: string, report: WipeReport): void {
  try {
    unlinkSync(path);
    report.removed.push(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Secure decommission: destroys the device identity (keys, certificates, CSRs, a rotation in
 * progress), the BLE state (allowlist, sealed bind keys and their key) and the reading buffer,
 * leaving the box as on first run. Stop the service first.
 */
export function wipeDevice(config: Pick<Config, 'gateway' | 'identity' | 'buffer' | 'sensors'>): WipeReport {
  const report: WipeReport = { destroyed: [], removed: [] };
  destroyTree(identityDir(config), report);
  // The BLE allowlist with its encrypted bind keys, the key that seals them, and replay counters.
  destroyTree(config.sensors.ble?.stateDir ?? join(config.gateway.dataDir, 'ble'), report);
  const buffer = config.buffer.path ?? join(config.gateway.dataDir, 'buffer.db');
  // The database, its -wal/-shm/-journal files and any quarantined copies all start with its name.
  const folder = dirname(buffer);
  if (existsSync(folder)) {
    for (const entry of readdirSync(folder)) if (entry.startsWith(basename(buffer))) removeFile(join(folder, entry), report);
  }
  return report;
}
