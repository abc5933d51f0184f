import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HardwareKeyError, IdentityError } from '../identity/errors.js';
import type { TlsCredentialProvider } from '../shared/tls.js';
import type { ClientCertFacts } from './errors.js';
import { UplinkError } from './errors.js';

/** Reads the CA, certificate and key files at every call, so a replaced certificate is used at the next connect. */
export function fileCredentialProvider(files: { caFile: string; certFile: string; keyFile: string }): TlsCredentialProvider {
  return async () => {
    const read = async (key: keyof typeof files) => {
      try {
        return await readFile(files[key], 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new UplinkError('bad-credentials', `cannot read cloud.${key} "${files[key]}": ${code}`, code);
      }
    };
    return { ca: await read('caFile'), cert: await read('certFile'), key: await read('keyFile') };
  };
}

/** The provider for the files named in the cloud config; rejects clearly when they are not configured (plaintext setups). */
export function configuredCredentialProvider(cloud: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined }): TlsCredentialProvider {
  const { caFile, certFile, keyFile } = cloud;
  if (caFile && certFile && keyFile) return fileCredentialProvider({ caFile, certFile, keyFile });
  return async () => {
    throw new UplinkError('bad-credentials', 'TLS needs cloud.caFile, cloud.certFile and cloud.keyFile');
  };
}

/** CN and validity of the first certificate in a PEM, or empty facts when it cannot be parsed. */
export function certFacts(certPem: string): ClientCertFacts {
  try {
    const cert = new X509Certificate(certPem);
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
    return {
      ...(cn !== undefined ? { commonName: cn } : {}),
      validFrom: Date.parse(cert.validFrom),
      validTo: Date.parse(cert.validTo),
    };
  } catch {
    return {};
  }
}

/** A failure the uplink must not retry before `retryAt` (a token that refused: each attempt may count towards a lockout). */
export class HeldUplinkError extends UplinkError {
  constructor(
    message: string,
    readonly retryAt: number,
  ) {
    super('hardware-key-unavailable', message);
  }
}

/**
 * Why the credentials could not be provided, as an uplink error kind. The on-box identity refuses
 * to hand out a certificate outside its validity: that is the certificate's expiry (or the clock),
 * not unusable files.
 */
export function credentialError(error: unknown): UplinkError {
  if (error instanceof UplinkError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof HardwareKeyError) return error.retryAt !== undefined ? new HeldUplinkError(message, error.retryAt) : new UplinkError('hardware-key-unavailable', message);
  if (error instanceof IdentityError && error.problem === 'expired') return new UplinkError('client-cert-expired', message, error.problem);
  if (error instanceof IdentityError && error.problem === 'not-yet-valid') return new UplinkError('client-cert-not-yet-valid', message, error.problem);
  return new UplinkError('bad-credentials', `cannot load the client certificate: ${message}`, error instanceof IdentityError ? error.problem : undefined);
}
