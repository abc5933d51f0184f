import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, readFileSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsCredentials, TlsKey } from '../shared/tls.js';
import type { KeyAlgorithm } from '../shared/config/identity.js';
import { certificateMatchesKey, describeCertificate, verifyIdentity, type CertificateInfo, type VerifyIdentityInput } from './certificate.js';
import { createCsrPem, type CsrSubject, type SubjectAltNames } from './csr.js';
import { IdentityError } from './errors.js';
import type { KeyStore, StoredKey } from './key-store/key-store.js';
import { identityPaths, type IdentityPaths } from './paths.js';
import { fsyncDirSync, renameDurablySync } from '../files/durable.js';
import { identityFailpoint } from './failpoint.js';
import { assertPrivate, destroyFile, ensurePrivateDir, writePrivateFile } from './secure-files.js';

export interface IdentityStoreOptions {
  dir: string;
  /** CA bundle certificates must chain to; undefined when neither identity.caFile nor cloud.caFile is set. */
  caFile: string | undefined;
  gatewayId: string;
  keyAlgorithm: KeyAlgorithm;
  subject: CsrSubject;
  subjectAltNames: SubjectAltNames;
  /** Where the keys are made and kept: files, or a PKCS#11 token. */
  keys: KeyStore;
}

export interface LoadedIdentity {
  key: TlsKey;
  certPem: string;
  info: CertificateInfo;
}

/** Where a provisioned certificate came from, recorded beside it. */
export interface CertificateOrigin {
  /** Names the certificate in messages and the record, e.g. "AWS IoT fleet provisioning (template fieldgate-fleet)". */
  source: string;
  /** The service's endpoint, without credentials. */
  endpoint: string;
  /** The service's id for the certificate (AWS: certificateId). */
  certificateId: string;
  /** The thing or device the service registered it for. */
  registeredAs: string;
  /** The service's template or profile that registered it. */
  template: string;
}

export interface RotationRequest {
  requestId: string;
  csrPem: string;
  /** ms since epoch */
  createdAt: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const first = statSync(a);
    const second = statSync(b);
    return first.ino === second.ino && first.dev === second.dev;
  } catch {
    return false;
  }
}

/**
 * The device identity on disk: `key.pem` + `cert.pem` in a 0700 folder, and during a rotation a
 * `next/` folder with the new key, its CSR, the request id and (once issued) the new certificate.
 * Every read re-checks permissions, so a loosened key is refused at the next connect as well.
 */
export class IdentityStore {
  readonly paths: IdentityPaths;

  constructor(private readonly options: IdentityStoreOptions) {
    this.paths = identityPaths(options.dir, options.keys.fileName);
  }

  hasKey(): boolean {
    return existsSync(this.paths.key);
  }

  /** Creates the folder and a key if there is none yet; returns true when a key was generated. */
  async ensureKey(): Promise<boolean> {
    ensurePrivateDir(this.paths.dir);
    if (this.hasKey()) {
      this.readKey(this.paths.key);
      return false;
    }
    await this.options.keys.generate(this.paths.key, this.options.keyAlgorithm);
    return true;
  }

  get keyStore(): KeyStore {
    return this.options.keys;
  }

  /** Writes the provisioning CSR for the current key (creating the key on first use). */
  async writeProvisioningCsr(): Promise<{ csrPem: string; keyCreated: boolean }> {
    const keyCreated = await this.ensureKey();
    const csrPem = await createCsrPem(this.readKey(this.paths.key), this.options.subject, this.options.subjectAltNames);
    writePrivateFile(this.paths.csr, csrPem);
    return { csrPem, keyCreated };
  }

  /** Validates a signed certificate against the device key and CA, then installs it as `cert.pem`. */
  importCertificate(certPem: string, source: string, now: number): CertificateInfo {
    if (!this.hasKey()) {
      throw new IdentityError('missing', `no device key in ${this.paths.dir}: run "fieldgate identity csr" first and have that CSR signed`);
    }
    assertPrivate(this.paths.dir, 'dir');
    const info = this.verify(certPem, this.readKey(this.paths.key), source, now);
    writePrivateFile(this.paths.cert, certPem.endsWith('\n') ? certPem : `${certPem}\n`);
    if (existsSync(this.paths.certOrigin)) unlinkSync(this.paths.certOrigin);
    if (existsSync(this.paths.csr)) unlinkSync(this.paths.csr);
    return info;
  }

  /**
   * Installs a certificate a provisioning service issued for the device key over a connection
   * that authenticated the service (AWS IoT fleet provisioning). Its issuer is the service's own
   * CA, so instead of a chain to caFile the store records the certificate's fingerprint and where
   * it came from in `cert-origin.json`, which later loads honour for that certificate only. Key
   * match and validity are checked as for an import; the old certificate stays until this one passed.
   */
  installProvisionedCertificate(certPem: string, origin: CertificateOrigin, now: number): CertificateInfo {
    const info = this.verifyProvisioned(certPem, origin.source, now);
    const { fingerprint256 } = info;
    // The origin first: a crash before the certificate moves in leaves a record that matches no certificate.
    writePrivateFile(this.paths.certOrigin, `${JSON.stringify({ ...origin, fingerprint256, installedAt: new Date(now).toISOString() }, null, 2)}\n`);
    writePrivateFile(this.paths.cert, certPem.endsWith('\n') ? certPem : `${certPem}\n`);
    if (existsSync(this.paths.csr)) unlinkSync(this.paths.csr);
    return info;
  }

  /** Checks a certificate a provisioning service issued (see installProvisionedCertificate) without installing it. */
  verifyProvisioned(certPem: string, source: string, now: number): CertificateInfo {
    if (!this.hasKey()) throw new IdentityError('missing', `no device key in ${this.paths.dir}: the CSR must come from this box's key`);
    assertPrivate(this.paths.dir, 'dir');
    const { fingerprint256 } = describeCertificate(certPem, source);
    return verifyIdentity({ ...this.verifyInput(certPem, this.readKey(this.paths.key), source, now), provisionedFingerprint: fingerprint256 });
  }

  /** The installed certificate's details, without checking validity (for `identity show`). */
  describe(): CertificateInfo {
    const certPem = readText(this.paths.cert);
    if (certPem === undefined) throw this.missingCertificate();
    return describeCertificate(certPem, this.paths.cert);
  }

  /** Loads the current identity and checks permissions, key match, chain and validity at `now`. */
  load(now: number): LoadedIdentity {
    if (!this.hasKey()) throw this.missingCertificate();
    assertPrivate(this.paths.dir, 'dir');
    const key = this.readKey(this.paths.key);
    const certPem = readText(this.paths.cert);
    if (certPem === undefined) throw this.missingCertificate();
    const info = this.verify(certPem, key, this.paths.cert, now);
    return { key: key.tls, certPem, info };
  }

  /** The current key as TLS takes it, checked usable with `certPem` (a token that refuses the PIN throws HardwareKeyError). */
  usableKey(certPem: string): TlsKey {
    const key = this.readKey(this.paths.key).tls;
    this.keyStore.assertUsable(certPem, key);
    return key;
  }

  credentials(identity: Pick<LoadedIdentity, 'key' | 'certPem'>): TlsCredentials {
    return { ca: this.readCa(), cert: identity.certPem, ...identity.key };
  }

  /**
   * Finishes what a crash or an I/O error interrupted: a journalled promotion is completed (every
   * step can be redone), a rotation without its key is dropped, a retired key is destroyed.
   */
  recover(): void {
    if (!existsSync(this.paths.dir)) return;
    if (existsSync(this.paths.promotionJournal)) {
      this.completePromotion();
      return;
    }
    // Before promotions were journalled: the new key moved in, its certificate still in next/.
    const pendingCert = readText(this.paths.nextCert);
    if (pendingCert !== undefined && this.hasKey() && !existsSync(this.paths.nextKey) && certificateMatchesKey(pendingCert, this.readKey(this.paths.key).publicKey)) {
      renameDurablySync(this.paths.nextCert, this.paths.cert);
    }
    if (existsSync(this.paths.nextDir) && !existsSync(this.paths.nextKey)) this.discardRotation();
    if (existsSync(this.paths.retiredKey)) {
      if (sameFile(this.paths.retiredKey, this.paths.key)) unlinkSync(this.paths.retiredKey);
      else this.options.keys.destroy(this.paths.retiredKey);
    }
  }

  pendingRotation(): RotationRequest | undefined {
    const request = readText(this.paths.nextRequest);
    const csrPem = readText(this.paths.nextCsr);
    if (request === undefined || csrPem === undefined || !existsSync(this.paths.nextKey)) return undefined;
    try {
      const parsed = JSON.parse(request) as { requestId?: unknown; createdAt?: unknown };
      if (typeof parsed.requestId !== 'string' || typeof parsed.createdAt !== 'number') return undefined;
      return { requestId: parsed.requestId, createdAt: parsed.createdAt, csrPem };
    } catch {
      return undefined;
    }
  }

  /** Generates the next key and its CSR under `next/`; the current identity stays in use. */
  async beginRotation(now: number): Promise<RotationRequest> {
    // next/ may hold the only copy of the certificate of an unfinished promotion: finish it first.
    if (existsSync(this.paths.promotionJournal)) this.completePromotion();
    this.discardRotation();
    ensurePrivateDir(this.paths.nextDir);
    await this.options.keys.generate(this.paths.nextKey, this.options.keyAlgorithm);
    const csrPem = await createCsrPem(this.readKey(this.paths.nextKey), this.options.subject, this.options.subjectAltNames);
    writePrivateFile(this.paths.nextCsr, csrPem);
    const request: RotationRequest = { requestId: randomUUID(), csrPem, createdAt: now };
    writePrivateFile(this.paths.nextRequest, `${JSON.stringify({ requestId: request.requestId, createdAt: now })}\n`);
    return request;
  }

  /** Validates an issued certificate against the next key and stores it beside that key. */
  acceptIssued(certPem: string, now: number): LoadedIdentity {
    const key = this.readKey(this.paths.nextKey);
    const info = this.verify(certPem, key, 'issued certificate', now);
    const normalised = certPem.endsWith('\n') ? certPem : `${certPem}\n`;
    writePrivateFile(this.paths.nextCert, normalised);
    return { key: key.tls, certPem: normalised, info };
  }

  /**
   * Makes the next identity the current one. A journal is written first, and every step after it
   * can be redone, so a crash or an I/O error between the key and the certificate renames is
   * finished by `recover()` (at the next start, or after the error) instead of losing the identity.
   * The old key is hard-linked aside so it can be overwritten before it is unlinked.
   */
  promote(): void {
    if (!existsSync(this.paths.nextKey) || !existsSync(this.paths.nextCert)) {
      throw new IdentityError('missing', 'no validated next identity to promote');
    }
    if (existsSync(this.paths.retiredKey)) unlinkSync(this.paths.retiredKey);
    writePrivateFile(this.paths.promotionJournal, `${JSON.stringify({ promoting: true, startedAt: new Date().toISOString() })}\n`);
    this.completePromotion();
  }

  private completePromotion(): void {
    if (existsSync(this.paths.nextKey)) {
      if (!existsSync(this.paths.retiredKey) && this.hasKey()) linkSync(this.paths.key, this.paths.retiredKey);
      renameDurablySync(this.paths.nextKey, this.paths.key);
    }
    identityFailpoint('promote-between-renames');
    if (existsSync(this.paths.nextCert)) renameDurablySync(this.paths.nextCert, this.paths.cert);
    // A rotated certificate is checked in full: the record of a provisioned one no longer applies.
    if (existsSync(this.paths.certOrigin)) unlinkSync(this.paths.certOrigin);
    if (existsSync(this.paths.retiredKey)) {
      // Still the current key only if the new one never moved in: then unlink, do not overwrite.
      if (sameFile(this.paths.retiredKey, this.paths.key)) unlinkSync(this.paths.retiredKey);
      else this.options.keys.destroy(this.paths.retiredKey);
    }
    this.discardRotation();
    unlinkSync(this.paths.promotionJournal);
    fsyncDirSync(this.paths.dir);
  }

  /** Destroys everything under `next/`: the half-done rotation is forgotten, the current identity stays. */
  discardRotation(): void {
    if (!existsSync(this.paths.nextDir)) return;
    this.options.keys.destroy(this.paths.nextKey);
    // Everything else, including a temporary file a crash may have left behind.
    for (const entry of readdirSync(this.paths.nextDir)) destroyFile(join(this.paths.nextDir, entry));
    rmdirSync(this.paths.nextDir);
  }

  readCa(): string {
    if (!this.options.caFile) {
      throw new IdentityError('missing', 'no CA configured to check the device certificate against: set identity.caFile or cloud.caFile');
    }
    const pem = readText(this.options.caFile);
    if (pem === undefined) throw new IdentityError('missing', `CA file ${this.options.caFile} not found`);
    return pem;
  }

  private verify(certPem: string, key: StoredKey, source: string, now: number): CertificateInfo {
    return verifyIdentity({ ...this.verifyInput(certPem, key, source, now), provisionedFingerprint: this.provisionedFingerprint() });
  }

  private verifyInput(certPem: string, key: StoredKey, source: string, now: number): VerifyIdentityInput {
    return { certPem, publicKey: key.publicKey, caPem: this.readCa(), caSource: this.options.caFile ?? 'CA', gatewayId: this.options.gatewayId, now, source };
  }

  /** The fingerprint `cert-origin.json` records, if a provisioning service delivered the current certificate. */
  private provisionedFingerprint(): string | undefined {
    const origin = readText(this.paths.certOrigin);
    if (origin === undefined) return undefined;
    try {
      const { fingerprint256 } = JSON.parse(origin) as { fingerprint256?: unknown };
      return typeof fingerprint256 === 'string' ? fingerprint256 : undefined;
    } catch {
      return undefined;
    }
  }

  private readKey(path: string): StoredKey {
    return this.options.keys.read(path);
  }

  private missingCertificate(): IdentityError {
    return new IdentityError(
      'missing',
      `no device certificate in ${this.paths.dir}: run "fieldgate identity csr --config FILE", have the CSR signed by your CA, then "fieldgate identity import --config FILE cert.pem"`,
    );
  }
}
