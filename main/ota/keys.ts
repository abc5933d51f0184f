import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

/** A key's id is the hex SHA-256 of its 32-byte public key, so an id can never name another key. */
export function keyIdOf(publicKey: Uint8Array): string {
  return bytesToHex(sha256(publicKey));
}

export interface PublisherKey {
  keyId: string;
  publicKey: string;
  secretKey: string;
}

export function generatePublisherKey(): PublisherKey {
  const { secretKey, publicKey } = ed25519.keygen();
  return { keyId: keyIdOf(publicKey), publicKey: bytesToHex(publicKey), secretKey: bytesToHex(secretKey) };
}

/** Parses a key file written by `fieldgate ota keygen`, checking the key pair is consistent. */
export function parsePublisherKey(text: string, source: string): PublisherKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${source}: not a fieldgate OTA key file (invalid JSON)`);
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const secretHex = record.secretKey;
  if (typeof secretHex !== 'string' || !/^[0-9a-f]{64}$/.test(secretHex)) {
    throw new Error(`${source}: "secretKey": expected 64 lowercase hex characters`);
  }
  const publicKey = ed25519.getPublicKey(hexToBytes(secretHex));
  const key = { keyId: keyIdOf(publicKey), publicKey: bytesToHex(publicKey), secretKey: secretHex };
  if (record.keyId !== key.keyId) throw new Error(`${source}: "keyId" does not match the secret key`);
  return key;
}

export function signWith(key: PublisherKey, message: Uint8Array): { keyId: string; sig: string } {
  return { keyId: key.keyId, sig: bytesToHex(ed25519.sign(message, hexToBytes(key.secretKey))) };
}

/** Strict RFC 8032 verification: non-canonical encodings and small-order tricks allowed by ZIP-215 are refused. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A canonical encoding (RFC 8032) of a point outside the small-order subgroup. */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  if (!ed25519.utils.isValidPublicKey(publicKey, false)) return false;
  try {
    return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}
