import { X509Certificate, type KeyObject } from 'node:crypto';
import { x509 } from '../x509/index.js';
import { IdentityError } from './errors.js';
import { clockLooksWrongMessage, daysLeft, expiredMessage, validityAt, type ValidityState } from './lifetime.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Splits a PEM bundle into its certificates, in file order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(PEM_CERT) ?? [];
}

export interface CertificateInfo {
  subject: string;
  commonName: string | undefined;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  subjectAltNames: string[];
  /** SHA-256 fingerprint, colon-separated hex as openssl prints it. */
  fingerprint256: string;
}

export function describeCertificate(pem: string, source: string): CertificateInfo {
  const first = splitPemCertificates(pem)[0];
  if (!first) throw new IdentityError('malformed', `${source} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
  let parsed: InstanceType<typeof x509.X509Certificate>;
  let native: X509Certificate;
  try {
    parsed = new x509.X509Certificate(first);
    native = new X509Certificate(first);
  } catch {
    throw new IdentityError('malformed', `${source} holds a certificate that cannot be parsed`);
  }
  const san = parsed.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    subject: parsed.subject,
    commonName: parsed.subjectName.getField('CN')[0],
    issuer: parsed.issuer,
    serial: parsed.serialNumber,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    subjectAltNames: san ? san.names.toJSON().map((name) => `${name.type === 'url' ? 'uri' : name.type}:${name.value}`) : [],
    fingerprint256: native.fingerprint256,
  };
}

export interface CertificateReport extends CertificateInfo {
  validity: ValidityState;
  daysLeft: number;
}

export function reportCertificate(info: CertificateInfo, now: number): CertificateReport {
  return { ...info, validity: validityAt(info, now), daysLeft: daysLeft(info, now) };
}

/** Throws the operator-facing diagnosis when the certificate is not valid at `now`. */
export function assertValidNow(info: CertificateInfo, now: number): void {
  const state = validityAt(info, now);
  if (state === 'not-yet-valid') throw new IdentityError('not-yet-valid', clockLooksWrongMessage(now, info.notBefore));
  if (state === 'expired') throw new IdentityError('expired', expiredMessage(now, info.notAfter));
}

export interface VerifyIdentityInput {
  /** Leaf first, optionally followed by intermediates. */
  certPem: string;
  /** The device key's public half. */
  publicKey: KeyObject;
  /** Trust anchors (and optionally intermediates) the leaf must chain to. */
  caPem: string;
  caSource: string;
  gatewayId: string;
  now: number;
  /** Names the certificate in messages, e.g. its file. */
  source: string;
  /**
   * SHA-256 fingerprint of a leaf a provisioning service delivered over a connection that
   * authenticated it (AWS IoT signs with its own CA, which no CA file holds). That leaf needs no
   * chain to `caPem`, and its CN is the service's choice; key and validity are still checked.
   */
  provisionedFingerprint?: string | undefined;
}

const MAX_CHAIN = 8;

function parseAll(pem: string, source: string): X509Certificate[] {
  return splitPemCertificates(pem).map((block) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new IdentityError('malformed', `${source} holds a certificate that cannot be parsed`);
    }
  });
}

export function certificateMatchesKey(certPem: string, publicKey: KeyObject): boolean {
  try {
    const leaf = splitPemCertificates(certPem)[0];
    return leaf !== undefined && new X509Certificate(leaf).publicKey.equals(publicKey);
  } catch {
    return false;
  }
}

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

/**
 * Walks from the leaf through the given intermediates to one of the anchors, checking each
 * signature; returns the intermediates on the path, or undefined when there is no path.
 */
function chainTo(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[]): X509Certificate[] | undefined {
  const path: X509Certificate[] = [];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (anchors.some((anchor) => anchor.fingerprint256 === current.fingerprint256 || signedBy(current, anchor))) return path;
    const next = intermediates.find((candidate) => candidate.ca && !path.includes(candidate) && signedBy(current, candidate));
    if (!next) return undefined;
    path.push(next);
    current = next;
  }
  return undefined;
}

function assertIntermediatesValid(path: X509Certificate[], source: string, now: number): void {
  for (const cert of path) {
    const notBefore = Date.parse(cert.validFrom);
    const notAfter = Date.parse(cert.validTo);
    if (now > notAfter) {
      throw new IdentityError('expired', `the intermediate CA "${cert.subject.replace(/\n/g, ', ')}" in ${source} expired on ${new Date(notAfter).toISOString()}: get a current chain from your CA`);
    }
    if (now < notBefore) throw new IdentityError('not-yet-valid', clockLooksWrongMessage(now, new Date(notBefore)));
  }
}

/**
 * Checks a device certificate before it is used: it parses, belongs to the device key, names the
 * gateway, chains to the configured CA, and is valid now. Each failure names what to do.
 */
export function verifyIdentity(input: VerifyIdentityInput): CertificateInfo {
  const info = describeCertificate(input.certPem, input.source);
  const [leaf, ...intermediates] = parseAll(input.certPem, input.source);
  if (!leaf) throw new IdentityError('malformed', `${input.source} holds no PEM certificate`);
  if (!leaf.publicKey.equals(input.publicKey)) {
    throw new IdentityError(
      'key-mismatch',
      `${input.source} (serial ${info.serial}) does not match the device key: it was issued for another key. Sign the CSR this device produced ("fieldgate identity csr")`,
    );
  }
  if (input.provisionedFingerprint !== undefined && input.provisionedFingerprint === info.fingerprint256) {
    assertValidNow(info, input.now);
    return info;
  }
  if (info.commonName !== input.gatewayId) {
    throw new IdentityError(
      'wrong-subject',
      `${input.source} is issued to CN=${info.commonName ?? '(none)'} but this gateway is "${input.gatewayId}": the broker ACL would confine it to the wrong topics`,
    );
  }
  const anchors = parseAll(input.caPem, input.caSource);
  if (anchors.length === 0) throw new IdentityError('malformed', `${input.caSource} holds no PEM certificate`);
  const path = chainTo(leaf, intermediates, anchors);
  if (!path) {
    throw new IdentityError(
      'untrusted',
      `${input.source} (issuer "${info.issuer}") does not chain to the configured CA ${input.caSource}; it was signed by another CA or an intermediate is missing (append it after the certificate)`,
    );
  }
  assertValidNow(info, input.now);
  assertIntermediatesValid(path, input.source, input.now);
  return info;
}
