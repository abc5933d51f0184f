import { x509 } from '../x509/index.js';
import type { IdentityConfig } from '../shared/config/identity.js';
import type { StoredKey } from './key-store/key-store.js';

export interface CsrSubject {
  /** Always the gateway id: the broker maps the CN to the MQTT username its ACL confines. */
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  country?: string;
  state?: string;
  locality?: string;
}

export type SubjectAltNames = IdentityConfig['subjectAltNames'];

export function subjectFromConfig(gatewayId: string, identity: IdentityConfig): CsrSubject {
  return { commonName: gatewayId, ...identity.subject };
}

/** Name attributes in the conventional order, most general first (C, ST, L, O, OU, CN). */
function distinguishedName(subject: CsrSubject): Record<string, string[]>[] {
  const parts: [string, string | undefined][] = [
    ['C', subject.country],
    ['ST', subject.state],
    ['L', subject.locality],
    ['O', subject.organization],
    ['OU', subject.organizationalUnit],
    ['CN', subject.commonName],
  ];
  return parts.filter((part): part is [string, string] => part[1] !== undefined).map(([type, value]) => ({ [type]: [value] }));
}

function altNames(sans: SubjectAltNames): { type: 'dns' | 'ip' | 'url'; value: string }[] {
  return [
    ...sans.dns.map((value) => ({ type: 'dns' as const, value })),
    ...sans.ip.map((value) => ({ type: 'ip' as const, value })),
    ...sans.uri.map((value) => ({ type: 'url' as const, value })),
  ];
}

/** ECDSA keys only sign; RSA keys may also be used for TLS 1.2 RSA key exchange. */
function keyUsage(key: StoredKey): number {
  const flags = x509.KeyUsageFlags.digitalSignature;
  return key.publicKey.asymmetricKeyType === 'rsa' ? flags | x509.KeyUsageFlags.keyEncipherment : flags;
}

/** A PKCS#10 request signed with the device key (inside the token for pkcs11), as PEM. Only the public key leaves the box. */
export async function createCsrPem(key: StoredKey, subject: CsrSubject, sans: SubjectAltNames): Promise<string> {
  const { keys, signing, crypto, release } = await key.csrKeys();
  const names = altNames(sans);
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(keyUsage(key), true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  try {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: distinguishedName(subject), keys, signingAlgorithm: signing, extensions }, crypto);
    return `${csr.toString('pem')}\n`;
  } finally {
    release();
  }
}
