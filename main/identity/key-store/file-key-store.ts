import { createPublicKey, webcrypto } from 'node:crypto';
import { generatePrivateKeyPem, parsePrivateKey, toWebCryptoKeys } from '../keys.js';
import { assertPrivate, destroyFile, readPrivateFile, writePrivateFile } from '../secure-files.js';
import type { KeyStore, StoredKey } from './key-store.js';

/** Today's behaviour: the key is an unencrypted PKCS#8 PEM file, 0600 in the 0700 identity folder. */
export const fileKeyStore: KeyStore = {
  summary: { kind: 'file', hardwareBacked: false, extractable: true },
  fileName: 'key.pem',
  async generate(path, algorithm) {
    writePrivateFile(path, generatePrivateKeyPem(algorithm));
  },
  read(path): StoredKey {
    assertPrivate(path, 'file');
    const pem = readPrivateFile(path);
    const privateKey = parsePrivateKey(pem, path);
    return {
      publicKey: createPublicKey(privateKey),
      tls: { key: pem },
      csrKeys: async () => ({ ...(await toWebCryptoKeys(privateKey)), crypto: webcrypto, release: () => undefined }),
    };
  },
  destroy: (path) => destroyFile(path),
  assertUsable() {},
};
