import { readFileSync } from 'node:fs';
import { describeCertificate, type CertificateInfo } from '../identity/certificate.js';
import { rotationDueAt } from '../identity/lifetime.js';
import type { IdentityStore } from '../identity/store.js';
import type { Config } from '../shared/config/schema.js';

/** The client certificate the uplink uses, for the status page; undefined when there is none (yet). */
export function certificateSummary(
  config: Config,
  store: IdentityStore,
  onBox: boolean,
): { info: CertificateInfo; managed: 'on-box' | 'external'; rotationDueAt?: number } | undefined {
  try {
    if (onBox) {
      const info = store.describe();
      const rotation = config.identity.rotation;
      return { info, managed: 'on-box', ...(rotation.enabled ? { rotationDueAt: rotationDueAt(info, rotation.atLifetimeShare) } : {}) };
    }
    const certFile = config.cloud?.certFile;
    if (certFile === undefined) return undefined;
    return { info: describeCertificate(readFileSync(certFile, 'utf8'), certFile), managed: 'external' };
  } catch {
    // No certificate yet, or an unreadable one: `identity` and the expiry monitor explain why.
    return undefined;
  }
}
