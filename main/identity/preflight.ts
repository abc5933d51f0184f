import { existsSync } from 'node:fs';
import type { Config } from '../shared/config/schema.js';
import { UserError } from '../shared/errors.js';
import { usesOnBoxIdentity } from './device-identity.js';
import { IdentityError } from './errors.js';
import { identityStoreFromConfig } from './from-config.js';
import { assertPrivate } from './secure-files.js';

/** sysexits' EX_CONFIG: the unit's RestartPreventExitStatus keeps systemd from looping on it. */
export const EXPOSED_KEY_EXIT_CODE = 78;

/**
 * A private key (or the token PIN file) that group or others can read may already be copied: the gateway refuses to start
 * until the operator fixes the mode, instead of connecting with it. A key not provisioned yet is
 * fine (the uplink waits for one).
 */
export function refuseExposedKeys(config: Config): void {
  if (!config.cloud) return;
  const store = identityStoreFromConfig(config);
  const checks: [string, 'file' | 'dir'][] = usesOnBoxIdentity(config, store)
    ? [
        [store.paths.dir, 'dir'],
        [store.paths.key, 'file'],
      ]
    : config.cloud.keyFile
      ? [[config.cloud.keyFile, 'file']]
      : [];
  const pinFile = config.identity.keyStore === 'pkcs11' ? config.identity.pkcs11?.pinFile : undefined;
  if (pinFile !== undefined) checks.push([pinFile, 'file']);
  for (const [path, kind] of checks) {
    if (!existsSync(path)) continue;
    try {
      assertPrivate(path, kind);
    } catch (error) {
      if (error instanceof IdentityError && error.problem === 'permissions') throw new UserError(error.message, EXPOSED_KEY_EXIT_CODE);
      throw error;
    }
  }
}
