import type { Config } from '../shared/config/schema.js';
import { subjectFromConfig } from './csr.js';
import { identityDir } from '../config/location.js';
import { IdentityStore } from './store.js';

export function identityStoreFromConfig(config: Pick<Config, 'gateway' | 'identity' | 'cloud'>): IdentityStore {
  return new IdentityStore({
    dir: identityDir(config),
    caFile: config.identity.caFile ?? config.cloud?.caFile,
    gatewayId: config.gateway.id,
    keyAlgorithm: config.identity.keyAlgorithm,
    subject: subjectFromConfig(config.gateway.id, config.identity),
    subjectAltNames: config.identity.subjectAltNames,
  });
}
