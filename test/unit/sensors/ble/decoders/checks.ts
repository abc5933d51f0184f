// Shared assertions for the decoder tests: known-answer failures and every-truncation checks.
import assert from 'node:assert/strict';
import { hexToBytes } from '../../../../../main/sensors/ble/decoders/bytes.js';
import { DecodeError, type DecodeFailure, type DecodedAdvertisement } from '../../../../../main/sensors/ble/decoders/types.js';
import type { Values } from '../../../../../main/shared/reading.js';

export const bytes = (hex: string): Uint8Array => hexToBytes(hex, 'test');

export function assertFails(fn: () => unknown, reason: DecodeFailure): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DecodeError, `expected DecodeError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    assert.ok(error.message.length > 0);
    return true;
  });
}

export interface TruncationOptions {
  /** The values of the whole frame; a prefix that decodes may only report these, with these values. */
  full: Values;
  /** Reasons a prefix may be refused with (default: truncated). */
  reasons?: readonly DecodeFailure[];
  /**
   * Prefix lengths that are a whole frame of their own: optional trailing bytes (Eddystone-UID's
   * reserved bytes) or another model's layout (13 bytes of a pvvx frame are an ATC1441 frame).
   */
  otherLayouts?: readonly number[];
}

/** Cuts `frame` at every byte offset: each prefix is refused with a reason, or decodes a subset of the full values. */
export function assertEveryTruncation(frame: Uint8Array, decode: (data: Uint8Array) => DecodedAdvertisement, options: TruncationOptions): void {
  const reasons = options.reasons ?? ['truncated'];
  for (let length = 0; length < frame.length; length++) {
    let decoded: DecodedAdvertisement;
    try {
      decoded = decode(frame.subarray(0, length));
    } catch (error) {
      assert.ok(error instanceof DecodeError, `length ${length}: ${String(error)}`);
      assert.ok(reasons.includes(error.reason), `length ${length}: reason ${error.reason} (${error.message})`);
      continue;
    }
    if (options.otherLayouts?.includes(length)) continue;
    for (const [quantity, measurement] of Object.entries(decoded.values)) {
      assert.deepEqual(measurement, options.full[quantity], `length ${length}: ${quantity}`);
    }
    assert.ok(Object.keys(decoded.values).length < Object.keys(options.full).length, `length ${length} decoded everything`);
  }
}
