import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBthome } from '../../../../../main/sensors/ble/decoders/bthome.js';
import { macToBytes } from '../../../../../main/sensors/ble/decoders/bytes.js';
import { sealBthome } from '../../../../fixtures/ble/bthome-seal.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

const BIND_KEY = '231d39c1d7cc1ab1aee224cd096db932';

describe('BTHome v2 with the MAC in the payload (device info bit 1)', () => {
  // bthome-ble tests/test_parser_v2.py, test_bthome_with_mac: pressure 1008.83 hPa, MAC A4:C1:38:8D:18:B2.
  const vector = '42b2188d38c1a404138a01';
  const values = { pressure: { value: 1008.83, unit: 'hPa' } };

  it('decodes bthome-ble\'s test_bthome_with_mac and reports the MAC it carries', () => {
    const decoded = decodeBthome(bytes(vector));
    assert.deepEqual(decoded.values, values);
    assert.equal(decoded.payloadMac, 'A4:C1:38:8D:18:B2');
  });

  it('cut at every byte offset is refused as truncated or decodes nothing wrong', () => {
    assertEveryTruncation(bytes(vector), (data) => decodeBthome(data), { full: values });
  });

  it('an encrypted frame with the MAC in the payload uses that MAC for the nonce, not the advertiser address', () => {
    const deviceMac = 'A4:C1:38:8D:18:B2';
    const sealed = bytes(sealBthome({ mac: deviceMac, bindKey: BIND_KEY, plaintextHex: '02ca0903bf13', counter: 7, info: 0x43 }));
    // Insert the reversed MAC after the info byte, as the device sends it.
    const frame = Uint8Array.from([sealed[0] as number, ...Uint8Array.from(macToBytes(deviceMac)).reverse(), ...sealed.subarray(1)]);
    const decoded = decodeBthome(frame, { bindKey: bytes(BIND_KEY), mac: macToBytes('11:22:33:44:55:66') });
    assert.deepEqual(decoded.values, { temperature: { value: 25.06, unit: '°C' }, humidity: { value: 50.55, unit: '%' } });
    assert.equal(decoded.counter, 7);
    assert.equal(decoded.payloadMac, deviceMac);
    assertFails(() => decodeBthome(frame), 'key-required');
  });
});
