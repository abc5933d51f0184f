import type { KeyObject, webcrypto } from 'node:crypto';
import type { KeyAlgorithm } from '../../shared/config/identity.js';
import type { TlsKey } from '../../shared/tls.js';

export type KeyStoreKind = 'file' | 'pkcs11';

/** What the signer of a CSR needs: the key pair, the matching algorithm and the WebCrypto that holds the private key. */
export interface CsrKeys {
  keys: webcrypto.CryptoKeyPair;
  signing: webcrypto.Algorithm | webcrypto.EcdsaParams;
  crypto: webcrypto.Crypto;
  /** Ends the token session the keys live in (nothing to do for a file key). */
  release(): void;
}

/** One device key as the identity uses it; for a token key, nothing here holds private key bytes. */
export interface StoredKey {
  /** The public half: what a certificate for this key must carry. */
  publicKey: KeyObject;
  tls: TlsKey;
  csrKeys(): Promise<CsrKeys>;
}

/** What `identity show`, the status and the About screen say about where the key lives. */
export interface KeyStoreSummary {
  kind: KeyStoreKind;
  /** True when the key was generated in hardware (or a token standing in for it) and cannot be exported. */
  hardwareBacked: boolean;
  extractable: boolean;
  /** The token, for `pkcs11`: its label or `slot N`. */
  token?: string;
}

/**
 * Where device keys are made, used and destroyed. Every key is named by a file in the identity
 * folder: the key itself for `file`, a reference to the token object (no secret) for `pkcs11`.
 */
export interface KeyStore {
  readonly summary: KeyStoreSummary;
  /** File name of the current key (or its reference) in the identity folder. */
  readonly fileName: string;
  /** Makes a new key and writes the file that names it (0600). */
  generate(path: string, algorithm: KeyAlgorithm): Promise<void>;
  /** Reads the key a file names, refusing a file others can read. */
  read(path: string): StoredKey;
  /** Destroys the key a file names and the file; false when there was no file. */
  destroy(path: string): boolean;
  /** Throws when the TLS key cannot be used now (a token that refuses the PIN or is missing); the file store has nothing to check. */
  assertUsable(certPem: string, key: TlsKey): void;
}
