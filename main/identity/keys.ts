import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../shared/config/identity.js';
import { IdentityError } from './errors.js';

/** Generates a private key on the box and returns it as unencrypted PKCS#8 PEM (stored 0600, never sent). */
export function generatePrivateKeyPem(algorithm: KeyAlgorithm): string {
  const pair =
    algorithm === 'ecdsa-p256' || algorithm === 'ecdsa-p384'
      ? generateKeyPairSync('ec', { namedCurve: algorithm === 'ecdsa-p256' ? 'P-256' : 'P-384' })
      : generateKeyPairSync('rsa', { modulusLength: algorithm === 'rsa-2048' ? 2048 : 3072 });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function parsePrivateKey(pem: string, source: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new IdentityError('malformed', `${source} is not a readable private key (expected unencrypted PEM)`);
  }
}

/** DER SubjectPublicKeyInfo of the key's public half: what a certificate for this key must carry. */
export function publicKeyDer(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
}

type SigningAlgorithm = webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;

function signingAlgorithm(privateKey: KeyObject): SigningAlgorithm {
  const details = privateKey.asymmetricKeyDetails ?? {};
  if (privateKey.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve === 'secp384r1' ? 'P-384' : details.namedCurve === 'prime256v1' ? 'P-256' : undefined;
    if (curve) return { name: 'ECDSA', namedCurve: curve };
  }
  if (privateKey.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  throw new IdentityError('malformed', `unsupported key type ${privateKey.asymmetricKeyType} ${details.namedCurve ?? ''}: use ECDSA P-256/P-384 or RSA`);
}

export interface WebCryptoKeys {
  keys: webcrypto.CryptoKeyPair;
  /** The algorithm to sign a CSR with, matching the key. */
  signing: webcrypto.Algorithm | webcrypto.EcdsaParams;
}

/** Imports the key into WebCrypto for @peculiar/x509; the imported private key is not extractable. */
export async function toWebCryptoKeys(privateKey: KeyObject): Promise<WebCryptoKeys> {
  const algorithm = signingAlgorithm(privateKey);
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const privateCryptoKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
  const publicCryptoKey = await webcrypto.subtle.importKey('spki', publicKeyDer(privateKey), algorithm, true, ['verify']);
  const signing = 'namedCurve' in algorithm ? { name: 'ECDSA', hash: algorithm.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' } : algorithm;
  return { keys: { privateKey: privateCryptoKey, publicKey: publicCryptoKey }, signing };
}
