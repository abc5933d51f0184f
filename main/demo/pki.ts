import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x509 } from '../x509/index.js';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;

export interface DemoPki {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  deviceCertFile: string;
  deviceKeyFile: string;
}

interface Issued {
  cert: string;
  key: string;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  // Backdated a little so a box whose clock lags the demo's by minutes still accepts it.
  return { notBefore: new Date(now - 60 * 60_000), notAfter: new Date(now + days * DAY_MS) };
}

async function issue(
  ca: { cert: x509.X509Certificate; keys: CryptoKeyPair },
  subject: string,
  extensions: x509.Extension[],
): Promise<Issued> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.cert.subject,
    ...validity(365),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...extensions,
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys) };
}

function writeSecret(file: string, pem: string): void {
  writeFileSync(file, pem, { mode: 0o600 });
}

/**
 * A throwaway PKI for the demo: a local CA, a broker certificate for localhost and a device
 * certificate whose CN is the gateway id. Reused when already present in `dir`.
 */
export async function ensureDemoPki(dir: string, gatewayId: string): Promise<DemoPki> {
  const pki: DemoPki = {
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'broker.pem'),
    serverKeyFile: join(dir, 'broker.key'),
    deviceCertFile: join(dir, 'device.pem'),
    deviceKeyFile: join(dir, 'device.key'),
  };
  if (Object.values(pki).every((file) => existsSync(file)) && deviceCertMatches(pki.deviceCertFile, gatewayId)) {
    return pki;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKeys = await generateKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=fieldgate demo CA',
    keys: caKeys,
    ...validity(3650),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const ca = { cert: caCert, keys: caKeys };
  const server = await issue(ca, 'CN=localhost', [
    new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
    ]),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
  ]);
  const device = await issue(ca, `CN=${gatewayId}`, [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]);
  writeFileSync(pki.caFile, caCert.toString('pem'));
  writeFileSync(pki.serverCertFile, server.cert);
  writeSecret(pki.serverKeyFile, server.key);
  writeFileSync(pki.deviceCertFile, device.cert);
  writeSecret(pki.deviceKeyFile, device.key);
  return pki;
}

function deviceCertMatches(file: string, gatewayId: string): boolean {
  const cert = new x509.X509Certificate(readFileSync(file, 'utf8'));
  return cert.subject === `CN=${gatewayId}` && cert.notAfter.getTime() > Date.now() + 30 * DAY_MS;
}
