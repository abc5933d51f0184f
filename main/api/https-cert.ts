import { X509Certificate, webcrypto } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../identity/secure-files.js';
import type { UiConfig } from '../shared/config/gateway.js';
import { isIpLiteral } from '../shared/config/gateway.js';
import { UserError } from '../shared/errors.js';
import { x509 } from '../x509/index.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
const LIFETIME_DAYS = 825;
const RENEW_DAYS = 30;

export interface HttpsMaterial {
  cert: string;
  key: string;
  /** SHA-256, colon-separated hex (as browsers and openssl show it). */
  fingerprint256: string;
  certFile: string;
  selfSigned: boolean;
}

export function selfSignedPaths(dir: string): { certFile: string; keyFile: string } {
  return { certFile: join(dir, 'https-cert.pem'), keyFile: join(dir, 'https-key.pem') };
}

/** The names a browser may use to reach the UI: the listen address, ui.serverNames, and for a wildcard listen the box's own addresses and host name. */
export function uiServerNames(ui: Pick<UiConfig, 'host' | 'serverNames'>): string[] {
  const names = new Set<string>(ui.serverNames);
  if (ui.host === '0.0.0.0' || ui.host === '::') {
    names.add(hostname());
    for (const addresses of Object.values(networkInterfaces())) for (const address of addresses ?? []) names.add(address.address.replace(/%.*$/, ''));
  } else {
    names.add(ui.host);
  }
  return [...names].sort();
}

function checkKeyFile(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UserError(`"ui.keyFile": ${file} is readable by group or others (mode ${mode.toString(8)}); fix: chmod 600 ${file}`);
  }
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

function stillFits(certPem: string, names: readonly string[], now: number): boolean {
  const cert = new X509Certificate(certPem);
  const wanted = names.map((name) => (isIpLiteral(name) ? `IP Address:${name}` : `DNS:${name}`)).sort();
  const present = (cert.subjectAltName ?? '').split(', ').filter(Boolean).sort();
  return Date.parse(cert.validTo) - now > RENEW_DAYS * DAY_MS && wanted.every((name) => present.includes(name));
}

async function createSelfSigned(names: readonly string[], gatewayId: string, now: number): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=fieldgate ${gatewayId}`,
    keys,
    notBefore: new Date(now - 60 * 60_000),
    notAfter: new Date(now + LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((name) => ({ type: isIpLiteral(name) ? 'ip' : 'dns', value: name }))),
    ],
  });
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { cert: cert.toString('pem'), key };
}

/**
 * The UI's HTTPS certificate: ui.certFile/keyFile when configured, else a self-signed ECDSA P-256
 * one under `dir`, made on first start and again when the names change or it nears expiry.
 */
export async function ensureHttpsMaterial(options: { ui: UiConfig; dir: string; gatewayId: string; now: number }): Promise<HttpsMaterial> {
  const { ui } = options;
  if (ui.certFile && ui.keyFile) {
    checkKeyFile(ui.keyFile);
    const cert = readFileSync(ui.certFile, 'utf8');
    return { cert, key: readFileSync(ui.keyFile, 'utf8'), fingerprint256: fingerprint(cert), certFile: ui.certFile, selfSigned: false };
  }
  const { certFile, keyFile } = selfSignedPaths(options.dir);
  const names = uiServerNames(ui);
  if (existsSync(certFile) && existsSync(keyFile) && stillFits(readFileSync(certFile, 'utf8'), names, options.now)) {
    checkKeyFile(keyFile);
    const cert = readFileSync(certFile, 'utf8');
    return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint256: fingerprint(cert), certFile, selfSigned: true };
  }
  const made = await createSelfSigned(names, options.gatewayId, options.now);
  ensurePrivateDir(options.dir);
  writePrivateFile(keyFile, made.key);
  writeFileSync(certFile, made.cert, { mode: 0o644 });
  return { ...made, fingerprint256: fingerprint(made.cert), certFile, selfSigned: true };
}

/** For `fieldgate status`: the fingerprint of the certificate the UI serves, if there is one yet. */
export function readHttpsFingerprint(ui: UiConfig, dir: string): string | undefined {
  const certFile = ui.certFile ?? selfSignedPaths(dir).certFile;
  return existsSync(certFile) ? fingerprint(readFileSync(certFile, 'utf8')) : undefined;
}
