// The property every BLE fuzz case checks: finite values with units, or a DecodeError with one of
// the README's reasons and a message; nothing else.
import assert from 'node:assert/strict';
import { decodePayloads, type AdvertisementPayloads, type DecodeKeying } from '../../../main/sensors/ble/decoders/index.js';
import { DecodeError, type DecodedAdvertisement } from '../../../main/sensors/ble/decoders/types.js';

/** README, "BLE sensors": what `ble decode` and the scanner report for a payload they refuse. */
const DOCUMENTED_REASONS = new Set(['unknown-format', 'truncated', 'mic-failure', 'key-required', 'malformed']);

export function decodeChecked(payloads: AdvertisementPayloads, keying: DecodeKeying = {}): DecodedAdvertisement | undefined {
  try {
    const decoded = decodePayloads(payloads, keying);
    for (const [name, measurement] of Object.entries(decoded.values)) {
      assert.ok(Number.isFinite(measurement.value), `${name} is finite`);
      assert.equal(typeof measurement.unit, 'string');
    }
    if (decoded.counter !== undefined) assert.ok(Number.isInteger(decoded.counter) && decoded.counter >= 0 && decoded.counter <= 0xffffffff);
    return decoded;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    assert.ok(DOCUMENTED_REASONS.has(error.reason), `undocumented reason ${error.reason}`);
    assert.ok(error.message.length > 0);
    return undefined;
  }
}
