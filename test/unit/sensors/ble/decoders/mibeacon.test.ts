import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macToBytes } from '../../../../../main/sensors/ble/decoders/bytes.js';
import type { Values } from '../../../../../main/shared/reading.js';
import { decodeMiBeacon } from '../../../../../main/sensors/ble/decoders/mibeacon.js';
import { MIBEACON_VECTOR, sealMiBeacon } from '../../../../fixtures/ble/mibeacon-seal.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

const keyOf = (hex: string) => ({ bindKey: bytes(hex) });

describe('MiBeacon plain vectors', () => {
  const table: Array<{ source: string; hex: string; values: Values; mac: string; frameCounter: number }> = [
    {
      source: 'ble_monitor (custom-components/ble_monitor) tests, test_Xiaomi_LYWSD03MMC: MiBeacon v3',
      hex: '50305b05034c94b438c1a40d10041001ea01',
      values: { temperature: { value: 27.2, unit: '°C' }, humidity: { value: 49, unit: '%' } },
      mac: 'A4:C1:38:B4:94:4C',
      frameCounter: 3,
    },
    {
      source: 'xiaomi-ble tests/test_parser.py, test_Xiaomi_HHCCJCY01: MiBeacon v2 with a capability byte',
      hex: '71209800 12f34f6b8d7cc40d041002c400'.replace(' ', ''),
      values: { temperature: { value: 19.6, unit: '°C' } },
      mac: 'C4:7C:8D:6B:4F:F3',
      frameCounter: 0x12,
    },
    {
      source: 'xiaomi-ble tests/test_parser.py, test_Xiaomi_JQJCY01YM1: MiBeacon v4, formaldehyde',
      hex: '5040df0201df02008d7cc41010027d00',
      values: { formaldehyde: { value: 1.25, unit: 'mg/m³' } },
      mac: 'C4:7C:8D:00:02:DF',
      frameCounter: 1,
    },
  ];
  for (const row of table) {
    it(`${row.source}`, () => {
      const decoded = decodeMiBeacon(bytes(row.hex));
      assert.deepEqual(decoded.values, row.values);
      assert.equal(decoded.format, 'mibeacon');
      assert.equal(decoded.encrypted, false);
      assert.equal(decoded.payloadMac, row.mac);
      assert.equal(decoded.repeatId, row.frameCounter);
    });

    it(`${row.hex} cut at every byte offset is refused as truncated or decodes no more than it carries`, () => {
      assertEveryTruncation(bytes(row.hex), (data) => decodeMiBeacon(data), { full: row.values });
    });
  }

  it('a frame without objects (the "I am here" frame) decodes to no values and no frame counter', () => {
    // ble_monitor's LYWSD03MMC dump (Magalex2x14/LYWSD03MMC-info): 30 58 5B 05 <cnt> <mac> 08.
    const decoded = decodeMiBeacon(bytes('30585b05bf6b872f38c1a408'));
    assert.deepEqual(decoded.values, {});
    assert.equal(decoded.repeatId, undefined);
    assert.equal(decoded.payloadMac, 'A4:C1:38:2F:87:6B');
  });

  it('skips the I/O capability byte that capability bit 5 announces (as xiaomi-ble and ble_monitor read it)', () => {
    // The HHCCJCY01 frame with capability 0x2d (bit 5 set) and one I/O byte inserted after it.
    assert.deepEqual(decodeMiBeacon(bytes('712098001 2f34f6b8d7cc42d00041002c400'.replace(' ', ''))).values, { temperature: { value: 19.6, unit: '°C' } });
  });

  it('skips unknown objects by their length and refuses a known object of the wrong size', () => {
    assert.deepEqual(decodeMiBeacon(bytes('4040df0201ffff02aaaa0a100155')).values, { battery: { value: 85, unit: '%' } });
    assertFails(() => decodeMiBeacon(bytes('4040df02010410010a')), 'malformed');
  });

  it('refuses versions other than 2 to 5 and legacy (v2/v3) encryption', () => {
    assertFails(() => decodeMiBeacon(bytes('5060df020100')), 'unknown-format');
    assertFails(() => decodeMiBeacon(bytes('5010df020100')), 'unknown-format');
    assertFails(() => decodeMiBeacon(bytes('4830df02011122334455667788')), 'unknown-format');
  });
});

describe('MiBeacon v4/v5 encrypted (AES-128-CCM, AAD 0x11)', () => {
  it('opens xiaomi-ble\'s LYWSD03MMC frame (test_Xiaomi_LYWSD03MMC_encrypted) with its bind key', () => {
    const decoded = decodeMiBeacon(bytes(MIBEACON_VECTOR.frame), keyOf(MIBEACON_VECTOR.bindKey));
    // xiaomi-ble shows 46 %: it truncates this model's humidity to whole percent; the frame carries 467 × 0.1 %.
    assert.deepEqual(decoded.values, { humidity: { value: 46.7, unit: '%' } });
    assert.equal(decoded.encrypted, true);
    assert.equal(decoded.payloadMac, MIBEACON_VECTOR.mac);
    assert.equal(decoded.counter, 0x26 * 256 + 0x50, 'extended counter × 256 + frame counter');
  });

  it('the test-side encryptor reproduces the published frame byte for byte', () => {
    const sealed = sealMiBeacon({ mac: MIBEACON_VECTOR.mac, bindKey: MIBEACON_VECTOR.bindKey, productId: 0x055b, frameCounter: 0x50, extCounter: 0x26, objectsHex: MIBEACON_VECTOR.plaintext });
    assert.equal(sealed, MIBEACON_VECTOR.frame);
  });

  it('opens xiaomi-ble\'s XMWSDJ04MMC frame (no MAC in the payload: the nonce takes the device MAC)', () => {
    const frame = bytes('48590312a41b776e7c96add7000000f2bf545b');
    const keying = { bindKey: bytes('b2cf9a553d53571b5657defd582d676e'), mac: macToBytes('2C:11:65:25:70:04') };
    assert.deepEqual(decodeMiBeacon(frame, keying).values, { humidity: { value: 45, unit: '%' } });
    assertFails(() => decodeMiBeacon(frame, { bindKey: keying.bindKey }), 'key-required');
    assertFails(() => decodeMiBeacon(frame, { ...keying, mac: macToBytes('2C:11:65:25:70:05') }), 'mic-failure');
  });

  it('needs a key, refuses a wrong one, and refuses every single-bit flip', () => {
    const frame = bytes(MIBEACON_VECTOR.frame);
    assertFails(() => decodeMiBeacon(frame), 'key-required');
    assertFails(() => decodeMiBeacon(frame, keyOf('814aac74c4f17b6c1581e1ab87816b99')), 'mic-failure');
    assertFails(() => decodeMiBeacon(frame, keyOf('e9ea895fac7cca6d30532432a516f3')), 'malformed');
    for (let at = 2; at < frame.length; at++) {
      if (at >= 5 && at < 11) continue; // the MAC: a flip there is a different device, refused by the MIC too
      const flipped = Uint8Array.from(frame);
      flipped[at] = (flipped[at] as number) ^ 0x01;
      assertFails(() => decodeMiBeacon(flipped, keyOf(MIBEACON_VECTOR.bindKey)), 'mic-failure');
    }
  });

  it('cut at every byte offset: truncated, or the MIC fails', () => {
    assertEveryTruncation(bytes(MIBEACON_VECTOR.frame), (data) => decodeMiBeacon(data, keyOf(MIBEACON_VECTOR.bindKey)), {
      full: { humidity: { value: 46.7, unit: '%' } },
      reasons: ['truncated', 'mic-failure'],
    });
  });

  it('counters rise with the extended counter', () => {
    const frame = (ext: number, counter: number) =>
      bytes(sealMiBeacon({ mac: MIBEACON_VECTOR.mac, bindKey: MIBEACON_VECTOR.bindKey, productId: 0x055b, frameCounter: counter, extCounter: ext, objectsHex: '04100210ff' }));
    const first = decodeMiBeacon(frame(1, 0xff), keyOf(MIBEACON_VECTOR.bindKey));
    const next = decodeMiBeacon(frame(2, 0x00), keyOf(MIBEACON_VECTOR.bindKey));
    assert.ok((next.counter as number) > (first.counter as number));
    assert.deepEqual(next.values, { temperature: { value: -24, unit: '°C' } });
  });
});
