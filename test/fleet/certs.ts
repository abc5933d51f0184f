import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { x509 } from '../../main/x509/index.js';
import type { TlsCredentials } from '../../main/shared/tls.js';
import type { Pki } from '../helpers/pki.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/**
 * Client certificates for many simulated gateways from the test CA, fast: one EC P-256 key shared
 * by all of them (a fleet has one key per box; the broker's work per handshake is the same) and
 * each certificate signed in-process instead of by the openssl CLI.
 */
export async function fleetCredentials(pki: Pki, gatewayIds: readonly string[]): Promise<Map<string, TlsCredentials>> {
  const caKeyPem = await readFile(pki.ca.keyPath, 'utf8');
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(caKeyPem), ALGORITHM, false, ['sign']);
  const caCert = new x509.X509Certificate(pki.ca.certPem);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const notBefore = new Date(Date.now() - 60 * 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const credentials = new Map<string, TlsCredentials>();
  let serial = 1;
  for (const id of gatewayIds) {
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (serial++).toString(16).padStart(8, '0'),
      subject: `CN=${id}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    });
    credentials.set(id, { ca: pki.ca.certPem, cert: cert.toString('pem'), key });
  }
  return credentials;
}
