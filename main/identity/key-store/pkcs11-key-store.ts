import { createPublicKey, type webcrypto } from 'node:crypto';
import type * as graphene from 'graphene-pk11';
import type { CryptoKey as TokenCryptoKey } from 'node-webcrypto-p11';
import type { KeyAlgorithm, Pkcs11Config } from '../../shared/config/identity.js';
import { IdentityError } from '../errors.js';
import { assertPrivate, destroyFile, readPrivateFile, writePrivateFile } from '../secure-files.js';
import type { KeyStore, StoredKey } from './key-store.js';
import { closeSession, openTokenSession, pkcs11Bindings, tokenName } from './pkcs11-token.js';
import { assertEngineKeyUsable, engineKey, type TokenKeyLocation } from './pkcs11-tls.js';

/** Every object fieldgate makes in a token carries this label prefix; `identity wipe` destroys them all. */
export const TOKEN_LABEL_PREFIX = 'fieldgate:';

/** What the identity folder keeps for a token key: where it is and its public half. No secret. */
interface KeyReference extends TokenKeyLocation {
  keyStore: 'pkcs11';
  label: string;
  namedCurve: 'P-256' | 'P-384';
  /** DER SubjectPublicKeyInfo, base64. */
  publicKey: string;
}

function parseReference(path: string): KeyReference {
  assertPrivate(path, 'file');
  try {
    const parsed = JSON.parse(readPrivateFile(path)) as Partial<KeyReference>;
    if (parsed.keyStore === 'pkcs11' && typeof parsed.idHex === 'string' && typeof parsed.publicKey === 'string' && typeof parsed.tokenLabel === 'string' && typeof parsed.tokenSerial === 'string') {
      return parsed as KeyReference;
    }
  } catch {
    // reported below
  }
  throw new IdentityError('malformed', `${path} is not a fieldgate PKCS#11 key reference: run "fieldgate identity wipe" and provision again`);
}

function objectsWithId(session: graphene.Session, idHex: string): graphene.SessionObject[] {
  const found = session.find({ id: Buffer.from(idHex, 'hex') });
  return Array.from({ length: found.length }, (_, index) => found.items(index));
}

/**
 * Device keys generated inside a PKCS#11 token (P-256 by default), marked sensitive and not
 * extractable: the private key never exists outside the token. Key generation and CSR signing go
 * through node-webcrypto-p11 (WebCrypto for @peculiar/x509); TLS goes through the OpenSSL engine
 * (pkcs11-tls.ts).
 */
export function pkcs11KeyStore(config: Pkcs11Config, gatewayId: string): KeyStore {
  return {
    summary: { kind: 'pkcs11', hardwareBacked: true, extractable: false, token: tokenName(config) },
    fileName: 'key.pkcs11.json',

    async generate(path: string, algorithm: KeyAlgorithm) {
      const namedCurve = algorithm === 'ecdsa-p384' ? 'P-384' : 'P-256';
      const label = `${TOKEN_LABEL_PREFIX}${gatewayId}`;
      const session = openTokenSession(config);
      try {
        const crypto = new (pkcs11Bindings().webcrypto.Crypto)({ session });
        const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve, token: true, sensitive: true, label } as webcrypto.EcKeyGenParams, false, ['sign', 'verify']);
        const publicKey = keys.publicKey as TokenCryptoKey;
        const spki = Buffer.from(await crypto.subtle.exportKey('spki', publicKey));
        const token = session.slot.getToken();
        const reference: KeyReference = {
          keyStore: 'pkcs11',
          tokenLabel: token.label.trim(),
          tokenSerial: token.serialNumber.trim(),
          idHex: publicKey.key.id.toString('hex'),
          label,
          namedCurve,
          publicKey: spki.toString('base64'),
        };
        writePrivateFile(path, `${JSON.stringify(reference, null, 2)}\n`);
      } finally {
        closeSession(session);
      }
    },

    read(path: string): StoredKey {
      const reference = parseReference(path);
      return {
        publicKey: createPublicKey({ key: Buffer.from(reference.publicKey, 'base64'), format: 'der', type: 'spki' }),
        tls: engineKey(config, reference),
        async csrKeys() {
          const session = openTokenSession(config);
          try {
            const crypto = new (pkcs11Bindings().webcrypto.Crypto)({ session });
            const indexes = await crypto.keyStorage.keys();
            const find = async (type: 'private' | 'public') => {
              const index = indexes.find((candidate) => candidate.startsWith(`${type}-`) && candidate.endsWith(`-${reference.idHex}`));
              if (index === undefined) throw new IdentityError('missing', `the ${type} key ${reference.idHex} named by ${path} is not in ${tokenName(config)}: plug in the right token, or provision again`);
              return crypto.keyStorage.getItem(index, { name: 'ECDSA', namedCurve: reference.namedCurve } as webcrypto.EcKeyImportParams, type === 'public', [type === 'private' ? 'sign' : 'verify']);
            };
            const keys = { privateKey: await find('private'), publicKey: await find('public') };
            return {
              // node-webcrypto-p11's types differ from Node's in detail; they are the same WebCrypto interface.
              keys: keys as unknown as webcrypto.CryptoKeyPair,
              signing: { name: 'ECDSA', hash: reference.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' },
              crypto: crypto as unknown as webcrypto.Crypto,
              release: () => closeSession(session),
            };
          } catch (error) {
            closeSession(session);
            throw error;
          }
        },
      };
    },

    destroy(path: string): boolean {
      let reference: KeyReference;
      try {
        reference = parseReference(path);
      } catch (error) {
        if (error instanceof IdentityError && error.problem === 'missing') return false;
        throw error;
      }
      const session = openTokenSession(config);
      try {
        for (const object of objectsWithId(session, reference.idHex)) object.destroy();
      } finally {
        closeSession(session);
      }
      return destroyFile(path);
    },

    assertUsable(certPem, key) {
      assertEngineKeyUsable(config, certPem, key);
    },
  };
}

/**
 * For `fieldgate config check`: logs in once and says whether the key the identity folder names
 * (if any) is in the token, marked sensitive and not extractable.
 */
export function checkTokenKey(config: Pkcs11Config, referencePath: string): string {
  let reference: KeyReference | undefined;
  try {
    reference = parseReference(referencePath);
  } catch (error) {
    if (!(error instanceof IdentityError && error.problem === 'missing')) throw error;
  }
  const session = openTokenSession(config);
  try {
    if (reference === undefined) return 'PIN accepted; no device key yet (fieldgate identity csr makes it in the token)';
    const privateKey = objectsWithId(session, reference.idHex)
      .map((object) => object.toType<graphene.PrivateKey>())
      .find((object) => object.class === pkcs11Bindings().graphene.ObjectClass.PRIVATE_KEY);
    if (privateKey === undefined) throw new IdentityError('missing', `${referencePath} names key ${reference.idHex}, which is not in ${tokenName(config)}: plug in the right token, or wipe and provision again`);
    if (!privateKey.sensitive || privateKey.extractable) throw new IdentityError('permissions', `the device key ${reference.idHex} in ${tokenName(config)} can be exported: wipe and provision again`);
    return `PIN accepted; device key ${reference.idHex} present (sensitive, not extractable)`;
  } finally {
    closeSession(session);
  }
}

/** Destroys every object fieldgate made in the token (keys of any rotation, orphans of a crash); returns their labels and ids. */
export function destroyTokenObjects(config: Pkcs11Config): string[] {
  const session = openTokenSession(config);
  try {
    const found = session.find(null);
    const ours: graphene.Key[] = [];
    for (let index = 0; index < found.length; index++) {
      const object = found.items(index).toType<graphene.Key>();
      if (object.label.startsWith(TOKEN_LABEL_PREFIX)) ours.push(object);
    }
    const destroyed: string[] = [];
    for (const object of ours) {
      destroyed.push(`${tokenName(config)}: ${object.label} id ${object.id.toString('hex')} (${pkcs11Bindings().graphene.ObjectClass[object.class] ?? object.class})`);
      object.destroy();
    }
    return destroyed;
  } finally {
    closeSession(session);
  }
}
