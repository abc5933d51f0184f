import { existsSync, statSync } from 'node:fs';
import type { Pkcs11Config } from '../shared/config/identity.js';
import type { Config } from '../shared/config/schema.js';
import { UserError } from '../shared/errors.js';
import { usesOnBoxIdentity } from './device-identity.js';
import { HardwareKeyError, IdentityError } from './errors.js';
import { identityStoreFromConfig } from './from-config.js';
import { readPin } from './key-store/pkcs11-token.js';
import { assertPrivate } from './secure-files.js';

/** sysexits' EX_CONFIG: the unit's RestartPreventExitStatus keeps systemd from looping on it. */
export const EXPOSED_KEY_EXIT_CODE = 78;

/**
 * A private key that group or others can read may already be copied: the gateway refuses to start
 * until the operator fixes the mode, instead of connecting with it. A key not provisioned yet is
 * fine (the uplink waits for one). The same goes for a token PIN file that is exposed or unusable,
 * and for ThingsBoard's access token file (`cloud.accessTokenFile`).
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
  for (const [path, kind] of checks) {
    if (!existsSync(path)) continue;
    try {
      assertPrivate(path, kind);
    } catch (error) {
      if (error instanceof IdentityError && error.problem === 'permissions') throw new UserError(error.message, EXPOSED_KEY_EXIT_CODE);
      throw error;
    }
  }
  const tokenFile = config.cloud.accessTokenFile;
  if (tokenFile !== undefined && existsSync(tokenFile) && (statSync(tokenFile).mode & 0o077) !== 0) {
    throw new UserError(`cloud.accessTokenFile "${tokenFile}" is readable by group or others; refusing to start. Fix: chmod 600 ${tokenFile}`, EXPOSED_KEY_EXIT_CODE);
  }
  const { pkcs11 } = config.identity;
  if (config.identity.keyStore === 'pkcs11' && pkcs11 !== undefined && usesOnBoxIdentity(config, store)) refuseUnusablePinFile(pkcs11);
}

/** A PIN file others can read, or one the token would refuse (empty, a trailing newline): fixed by the operator, not by a restart. */
function refuseUnusablePinFile(pkcs11: Pkcs11Config): void {
  try {
    readPin(pkcs11);
  } catch (error) {
    if (error instanceof HardwareKeyError) throw new UserError(error.message, EXPOSED_KEY_EXIT_CODE);
    throw error;
  }
}
