import { join } from 'node:path';

/** Where each identity file lives. `next/` holds a rotation in progress until it is promoted. */
export interface IdentityPaths {
  dir: string;
  key: string;
  cert: string;
  /** The provisioning CSR written by `fieldgate identity csr`. */
  csr: string;
  /** Present when `cert.pem` came from a provisioning service (AWS IoT fleet provisioning): names it and the certificate's fingerprint. */
  certOrigin: string;
  nextDir: string;
  nextKey: string;
  nextCsr: string;
  nextCert: string;
  nextRequest: string;
  /** Hard link to the key being replaced during promotion, destroyed once the new key is in place. */
  retiredKey: string;
  /** Present from the start of a promotion until it is complete: `recover()` finishes it. */
  promotionJournal: string;
}

/** `keyFileName` is the key store's: `key.pem` for a file key, `key.pkcs11.json` for a reference to a token key. */
export function identityPaths(dir: string, keyFileName = 'key.pem'): IdentityPaths {
  const nextDir = join(dir, 'next');
  return {
    dir,
    key: join(dir, keyFileName),
    cert: join(dir, 'cert.pem'),
    csr: join(dir, 'csr.pem'),
    certOrigin: join(dir, 'cert-origin.json'),
    nextDir,
    nextKey: join(nextDir, keyFileName),
    nextCsr: join(nextDir, 'csr.pem'),
    nextCert: join(nextDir, 'cert.pem'),
    nextRequest: join(nextDir, 'request.json'),
    retiredKey: join(dir, `retired-${keyFileName}`),
    promotionJournal: join(dir, 'promotion.json'),
  };
}
