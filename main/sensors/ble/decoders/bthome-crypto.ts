import { createDecipheriv } from 'node:crypto';
import { DecodeError } from './types.js';

/** BTHome's service UUID as sent on air (little endian), part of the nonce. */
const UUID_ON_AIR = Uint8Array.of(0xd2, 0xfc);
const COUNTER_BYTES = 4;
const MIC_BYTES = 4;
export const BIND_KEY_BYTES = 16;

export interface OpenedFrame {
  plaintext: Uint8Array;
  /** The counter bytes read as a little-endian uint32. */
  counter: number;
}

/** Nonce = MAC (display order) | UUID on air | device info | counter bytes as sent. */
export function bthomeNonce(mac: Uint8Array, info: number, counterBytes: Uint8Array): Uint8Array {
  return Uint8Array.from([...mac, ...UUID_ON_AIR, info, ...counterBytes]);
}

/**
 * Authenticates and decrypts an encrypted BTHome v2 frame (`info | ciphertext | counter | MIC`,
 * without the UUID) with AES-128-CCM, a 4-byte MIC and no associated data.
 */
export function openBthomeFrame(frame: Uint8Array, mac: Uint8Array, bindKey: Uint8Array): OpenedFrame {
  if (bindKey.length !== BIND_KEY_BYTES) {
    throw new DecodeError('malformed', `bind key: expected ${BIND_KEY_BYTES} bytes (32 hex digits), got ${bindKey.length}`);
  }
  if (frame.length < 1 + 1 + COUNTER_BYTES + MIC_BYTES) {
    throw new DecodeError('truncated', `BTHome: encrypted frame of ${frame.length} bytes is too short (need at least 10)`);
  }
  const info = frame[0] as number;
  const micStart = frame.length - MIC_BYTES;
  const counterStart = micStart - COUNTER_BYTES;
  const ciphertext = frame.subarray(1, counterStart);
  const counterBytes = frame.subarray(counterStart, micStart);
  const decipher = createDecipheriv('aes-128-ccm', bindKey, bthomeNonce(mac, info, counterBytes), { authTagLength: MIC_BYTES });
  decipher.setAuthTag(frame.subarray(micStart));
  decipher.setAAD(new Uint8Array(0), { plaintextLength: ciphertext.length });
  const plaintext = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    throw new DecodeError('mic-failure', 'BTHome: MIC check failed: wrong bind key, wrong MAC, or a corrupted frame');
  }
  return { plaintext: Uint8Array.from(plaintext), counter: Buffer.from(counterBytes).readUInt32LE(0) };
}
