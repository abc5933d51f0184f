import { existsSync, lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../shared/config/schema.js';
import { apiDataDir, bleStateDir, bufferFile, identityDir, otaRootFor } from '../config/location.js';
import { destroyTokenObjects } from './key-store/pkcs11-key-store.js';
import { destroyFile } from './secure-files.js';

export interface WipeReport {
  /** Overwritten with random bytes, then unlinked. */
  destroyed: string[];
  /** Unlinked (bulk data such as the buffer). */
  removed: string[];
  /** Secrets that could not be destroyed, with why: while any is listed the box is not in first-run state. */
  remaining: { path: string; error: string }[];
  /** Kept on purpose, holding no secret: the OTA anti-rollback state, the CA and an external certificate. */
  kept: string[];
  state: 'first-run' | 'incomplete';
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

/** Destroys one part, noting a failure instead of stopping: the rest is still wiped. */
function attempt(path: string, report: WipeReport, wipe: () => void): void {
  try {
    wipe();
  } catch (error) {
    report.remaining.push({ path, error: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Secure decommission: destroys the device identity (keys, certificates, CSRs, a rotation in
 * progress; with identity.keyStore pkcs11 every object fieldgate made in the token), the BLE state (allowlist, sealed bind keys and their key), the control API's state
 * (accounts, sessions, HTTPS key, tokens), secrets the config names outside the data dir
 * (`cloud.keyFile`, `ui.tokenFile`), the OTA logs and the reading buffer. The state is `first-run`
 * only when every secret is gone; otherwise `remaining` lists what is left and why. Stop the service first.
 */
export function wipeDevice(config: Pick<Config, 'gateway' | 'identity' | 'buffer' | 'sensors' | 'cloud' | 'ui' | 'ota'>): WipeReport {
  const report: WipeReport = { destroyed: [], removed: [], remaining: [], kept: [], state: 'first-run' };
  const tree = (path: string) => attempt(path, report, () => destroyTree(path, report));
  const file = (path: string) => attempt(path, report, () => (destroyFile(path) ? report.destroyed.push(path) : undefined));
  const { pkcs11 } = config.identity;
  // The token's key objects first: the identity folder holds the references that name them.
  if (config.identity.keyStore === 'pkcs11' && pkcs11 !== undefined) attempt(`PKCS#11 ${pkcs11.module}`, report, () => report.destroyed.push(...destroyTokenObjects(pkcs11)));
  tree(identityDir(config));
  // The BLE allowlist with its encrypted bind keys, the key that seals them, and replay counters.
  tree(bleStateDir(config));
  tree(apiDataDir(config.gateway.dataDir));
  if (config.cloud?.keyFile !== undefined) file(config.cloud.keyFile);
  if (config.ui.tokenFile !== undefined) file(config.ui.tokenFile);
  const otaState = join(otaRootFor(config), 'state');
  tree(join(otaState, 'logs'));
  if (existsSync(otaState)) report.kept.push(otaState);
  for (const kept of [config.cloud?.caFile, config.cloud?.certFile]) if (kept !== undefined && existsSync(kept)) report.kept.push(kept);
  const buffer = bufferFile(config);
  // The database, its -wal/-shm/-journal files and any quarantined copies all start with its name.
  const folder = dirname(buffer);
  if (existsSync(folder)) {
    for (const entry of readdirSync(folder)) if (entry.startsWith(basename(buffer))) attempt(join(folder, entry), report, () => removeFile(join(folder, entry), report));
  }
  report.state = report.remaining.length === 0 ? 'first-run' : 'incomplete';
  return report;
}
