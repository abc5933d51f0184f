import type { Config } from '../shared/config/schema.js';
import { subjectFromConfig } from './csr.js';
import { identityDir } from '../config/location.js';
import { fileKeyStore } from './key-store/file-key-store.js';
import type { KeyStore } from './key-store/key-store.js';
import { pkcs11KeyStore } from './key-store/pkcs11-key-store.js';
import { IdentityStore } from './store.js';

export function keyStoreFromConfig(config: Pick<Config, 'gateway' | 'identity'>): KeyStore {
  const { pkcs11 } = config.identity;
  return config.identity.keyStore === 'pkcs11' && pkcs11 !== undefined ? pkcs11KeyStore(pkcs11, config.gateway.id) : fileKeyStore;
}

export function identityStoreFromConfig(config: Pick<Config, 'gateway' | 'identity' | 'cloud'>): IdentityStore {
  return new IdentityStore({
    dir: identityDir(config),
    caFile: config.identity.caFile ?? config.cloud?.caFile,
    gatewayId: config.gateway.id,
    keyAlgorithm: config.identity.keyAlgorithm,
    subject: subjectFromConfig(config.gateway.id, config.identity),
    subjectAltNames: config.identity.subjectAltNames,
    keys: keyStoreFromConfig(config),
  });
}
