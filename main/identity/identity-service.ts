import { readFileSync } from 'node:fs';
import type { IdentityBackend } from '../api/backends.js';
import type { Logger } from '../log/logger.js';
import { ApiError, type IdentityView, type MethodResult, type ParsedInput } from '../shared/api.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import { x509 } from '../x509/index.js';
import { assertValidNow, describeCertificate, reportCertificate, type CertificateReport } from './certificate.js';
import { usesOnBoxIdentity } from './device-identity.js';
import { IdentityError, type IdentityProblem } from './errors.js';
import { identityStoreFromConfig } from './from-config.js';
import { rotationDueAt } from './lifetime.js';
import type { KeyStoreSummary } from './key-store/key-store.js';
import type { IdentityStore } from './store.js';

/** What `fieldgate identity show` and the control API's `identity` report. */
export interface IdentityReport {
  /** `on-box`: key and certificate in identity.dir, rotated by fieldgate; `external`: cloud.certFile/keyFile. */
  managed: 'on-box' | 'external';
  /** `ok`, or what is wrong and how to fix it. */
  status: string;
  /** Null when there is no certificate yet (or it cannot be read); `status` says why. */
  certificate: CertificateReport | null;
  rotationDueAt?: number;
  rotationPending?: { requestId: string; since: number };
  /** The on-box identity's key store: a file, or a token the key cannot leave. */
  keyStore?: KeyStoreSummary;
  keyFile?: string;
  certFile: string;
}

/** cloud.certFile naming a file outside the identity folder: an identity managed (and renewed) elsewhere. */
export function externalCertFile(config: Config, store: IdentityStore): string | undefined {
  return config.cloud?.certFile && !usesOnBoxIdentity(config, store) ? config.cloud.certFile : undefined;
}

export function identityReport(config: Config, store: IdentityStore, now: number): IdentityReport {
  const external = externalCertFile(config, store);
  return external !== undefined ? externalReport(external, now) : onBoxReport(config, store, now);
}

function onBoxReport(config: Config, store: IdentityStore, now: number): IdentityReport {
  const files = { keyStore: store.keyStore.summary, keyFile: store.paths.key, certFile: store.paths.cert };
  let certificate: CertificateReport;
  try {
    certificate = reportCertificate(store.describe(), now);
  } catch (error) {
    return { managed: 'on-box', status: messageOf(error), certificate: null, ...files };
  }
  let status = 'ok';
  try {
    store.load(now);
  } catch (error) {
    status = messageOf(error);
  }
  const pending = store.pendingRotation();
  const { rotation } = config.identity;
  return {
    managed: 'on-box',
    status,
    certificate,
    ...(rotation.enabled ? { rotationDueAt: rotationDueAt(certificate, rotation.atLifetimeShare) } : {}),
    ...(pending ? { rotationPending: { requestId: pending.requestId, since: pending.createdAt } } : {}),
    ...files,
  };
}

function externalReport(certFile: string, now: number): IdentityReport {
  let certificate: CertificateReport;
  try {
    certificate = reportCertificate(describeCertificate(readFileSync(certFile, 'utf8'), certFile), now);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const status = code !== undefined ? `cannot read certificate "${certFile}": ${code === 'ENOENT' ? 'file not found' : code}` : messageOf(error);
    return { managed: 'external', status, certificate: null, certFile };
  }
  let status = 'ok';
  try {
    assertValidNow(certificate, now);
  } catch (error) {
    status = messageOf(error);
  }
  return { managed: 'external', status, certificate, certFile };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface IdentityServiceDeps {
  /** The config in force now (it may change while the gateway runs). */
  config: () => Config;
  /**
   * The running certificate rotation (`DeviceIdentity.rotation(uplink)`), absent without an
   * on-box identity or without a cloud connection to send the CSR over.
   */
  rotation: () => { rotateNow(): Promise<string> } | undefined;
  log: Logger;
  clock: Clock;
}

const IMPORT_HINTS: Record<IdentityProblem, string> = {
  missing: 'create a CSR first (it makes the device key), and set identity.caFile or cloud.caFile to the CA that signs it',
  permissions: 'the identity folder must be 0700 and its files 0600, owned by the service user',
  'key-mismatch': 'this certificate was issued for another key: have the CSR downloaded from this gateway signed',
  untrusted: 'the certificate must chain to the configured CA (identity.caFile or cloud.caFile)',
  'not-yet-valid': 'check the box clock (is NTP working?)',
  expired: 'have a new certificate issued',
  'wrong-subject': 'the certificate CN must be gateway.id: sign the CSR from this gateway as it is',
  malformed: 'upload the PEM certificate (-----BEGIN CERTIFICATE-----), leaf first',
  'hardware-key-unavailable': 'the token holding the device key cannot be used: see the message, fix it, then try again',
};

/**
 * The device identity for the control API: the same report as `identity show`, the provisioning
 * CSR for download, certificate import with the store's checks, and a rotation on demand.
 */
export class IdentityService implements IdentityBackend {
  constructor(private readonly deps: IdentityServiceDeps) {}

  identity(): MethodResult<'identity'> {
    const config = this.deps.config();
    return viewOf(identityReport(config, identityStoreFromConfig(config), this.deps.clock.now()));
  }

  async createCsr(): Promise<MethodResult<'createCsr'>> {
    const config = this.deps.config();
    const store = this.onBoxStore(config);
    const { csrPem, keyCreated } = await store.writeProvisioningCsr();
    this.deps.log.info({ keyCreated, csrFile: store.paths.csr }, 'provisioning CSR created from the control API');
    return { pem: csrPem, fileName: `${config.gateway.id}.csr`, subject: new x509.Pkcs10CertificateRequest(csrPem).subject };
  }

  importCertificate(input: ParsedInput<'importCertificate'>): MethodResult<'importCertificate'> {
    const config = this.deps.config();
    const store = this.onBoxStore(config);
    try {
      const info = store.importCertificate(input.pem, 'the uploaded certificate', this.deps.clock.now());
      this.deps.log.info({ subject: info.subject, serial: info.serial, notAfter: info.notAfter.toISOString() }, 'device certificate imported from the control API');
    } catch (error) {
      if (!(error instanceof IdentityError)) throw error;
      const kind = error.problem === 'missing' || error.problem === 'permissions' ? 'conflict' : 'bad-request';
      throw new ApiError(kind, error.message, { field: 'pem', hint: IMPORT_HINTS[error.problem] });
    }
    return viewOf(identityReport(config, store, this.deps.clock.now()));
  }

  async rotateNow(): Promise<MethodResult<'rotateNow'>> {
    const rotation = this.deps.rotation();
    if (rotation === undefined) {
      throw new ApiError('unavailable', 'certificate rotation is not running', {
        hint: 'it needs the on-box identity with an installed certificate and a configured cloud connection (it sends the CSR over MQTT)',
      });
    }
    try {
      return { requestId: await rotation.rotateNow() };
    } catch (error) {
      if (error instanceof Error && /already in progress/.test(error.message)) throw new ApiError('conflict', error.message, { hint: 'wait for the pending rotation to finish or time out' });
      throw error;
    }
  }

  private onBoxStore(config: Config): IdentityStore {
    const store = identityStoreFromConfig(config);
    const external = externalCertFile(config, store);
    if (external !== undefined) {
      throw new ApiError('conflict', `the gateway uses an externally managed certificate (cloud.certFile "${external}")`, {
        hint: 'remove cloud.certFile and cloud.keyFile to use the on-box identity, or replace that file where it is managed',
      });
    }
    return store;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function viewOf(report: IdentityReport): IdentityView {
  const certificate = report.certificate;
  return {
    managed: report.managed,
    status: report.status,
    certificate:
      certificate === null
        ? null
        : {
            subject: certificate.subject,
            issuer: certificate.issuer,
            serial: certificate.serial,
            notBefore: certificate.notBefore.toISOString(),
            notAfter: certificate.notAfter.toISOString(),
            daysLeft: certificate.daysLeft,
            validity: certificate.validity,
            subjectAltNames: certificate.subjectAltNames,
            fingerprint256: certificate.fingerprint256,
          },
    ...(report.rotationDueAt !== undefined && { rotationDueAt: iso(report.rotationDueAt) }),
    ...(report.rotationPending && { rotationPending: { requestId: report.rotationPending.requestId, since: iso(report.rotationPending.since) } }),
    ...(report.keyStore && { keyStore: report.keyStore }),
    ...(report.keyFile !== undefined && { keyFile: report.keyFile }),
    certFile: report.certFile,
  };
}
