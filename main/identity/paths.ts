import { join } from 'node:path';

/** Where each identity file lives. `next/` holds a rotation in progress until it is promoted. */
export interface IdentityPaths {
  dir: string;
  key: string;
  cert: string;
  /** The provisioning CSR written by `fieldgate identity csr`. */
  csr: string;
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

export function identityPaths(dir: string): IdentityPaths {
  const nextDir = join(dir, 'next');
  return {
    dir,
    key: join(dir, 'key.pem'),
    cert: join(dir, 'cert.pem'),
    csr: join(dir, 'csr.pem'),
    nextDir,
    nextKey: join(nextDir, 'key.pem'),
    nextCsr: join(nextDir, 'csr.pem'),
    nextCert: join(nextDir, 'cert.pem'),
    nextRequest: join(nextDir, 'request.json'),
    retiredKey: join(dir, 'retired-key.pem'),
    promotionJournal: join(dir, 'promotion.json'),
  };
}
