// Known answers for the primitives the OTA trust rests on, and the strictness of verification.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isUsablePublicKey, keyIdOf, verifyEd25519 } from '../../../main/ota/keys.js';
import { parseKeyset } from '../../../main/ota/documents.js';
import { OtaError } from '../../../main/ota/reasons.js';

// RFC 8032 §7.1, TEST 1 (empty message).
const RFC8032_1 = {
  secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};

describe('Ed25519 known answers (RFC 8032 test 1)', () => {
  test('derives the public key and the exact signature, and verifies strictly', () => {
    const secret = hexToBytes(RFC8032_1.secretKey);
    assert.equal(bytesToHex(ed25519.getPublicKey(secret)), RFC8032_1.publicKey);
    const signature = ed25519.sign(new Uint8Array(0), secret);
    assert.equal(bytesToHex(signature), RFC8032_1.signature);
    assert.equal(verifyEd25519(signature, new Uint8Array(0), hexToBytes(RFC8032_1.publicKey)), true);
  });

  test('a one-byte message change or a flipped signature bit fails', () => {
    const signature = hexToBytes(RFC8032_1.signature);
    const publicKey = hexToBytes(RFC8032_1.publicKey);
    assert.equal(verifyEd25519(signature, new Uint8Array([0]), publicKey), false);
    const flipped = signature.slice();
    flipped[40]! ^= 1;
    assert.equal(verifyEd25519(flipped, new Uint8Array(0), publicKey), false);
  });

  test('strict RFC 8032, not ZIP-215: a non-canonical public key encoding is refused', () => {
    // y = p + 1 is a non-canonical encoding of the identity; with R = identity and S = 0 the
    // cofactored ZIP-215 equation holds for every message.
    const p = 2n ** 255n - 19n;
    const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    const publicKey = le(p + 1n);
    const signature = new Uint8Array(64);
    signature.set(le(1n), 0);
    const message = new TextEncoder().encode('install me');
    assert.equal(ed25519.verify(signature, message, publicKey, { zip215: true }), true, 'ZIP-215 would accept it');
    assert.equal(verifyEd25519(signature, message, publicKey), false);
    assert.equal(isUsablePublicKey(publicKey), false);
    assert.equal(isUsablePublicKey(le(1n)), false, 'the canonical identity is of small order');
    assert.throws(
      () => parseKeyset({ type: 'fieldgate-ota-keyset', version: 1, threshold: 1, keys: [{ keyId: keyIdOf(publicKey), publicKey: bytesToHex(publicKey) }] }, 'test'),
      (error: unknown) => error instanceof OtaError && error.code === 'keyset-invalid',
    );
  });
});

describe('SHA-256 known answers', () => {
  test('FIPS 180-2 vectors, one shot', () => {
    assert.equal(bytesToHex(sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(bytesToHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('one million "a", streamed in uneven chunks', () => {
    const hash = sha256.create();
    const chunk = new Uint8Array(4093).fill(0x61);
    let left = 1_000_000;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      hash.update(chunk.subarray(0, n));
      left -= n;
    }
    assert.equal(bytesToHex(hash.digest()), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });
});
