import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAtcPvvx } from '../../../../../main/sensors/ble/decoders/atc-pvvx.js';
import type { BleFormat } from '../../../../../main/sensors/ble/decoders/types.js';
import type { Values } from '../../../../../main/shared/reading.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

// Inputs and expected values: Theengs decoder tests/BLE/test_ble.cpp (LYWSD03MMC_ATC, LYWSD03MMC_PVVX, MHO_SAL).
const VECTORS: Array<{ hex: string; format: BleFormat; mac: string; values: Values }> = [
  {
    hex: 'a4c138d5d49801453e510b7b62',
    format: 'atc1441',
    mac: 'A4:C1:38:D5:D4:98',
    values: { temperature: { value: 32.5, unit: '°C' }, humidity: { value: 62, unit: '%' }, battery: { value: 81, unit: '%' }, battery_voltage: { value: 2939, unit: 'mV' } },
  },
  {
    hex: 'a4c138d5d498ffd33e510b7b62',
    format: 'atc1441',
    mac: 'A4:C1:38:D5:D4:98',
    values: { temperature: { value: -4.5, unit: '°C' }, humidity: { value: 62, unit: '%' }, battery: { value: 81, unit: '%' }, battery_voltage: { value: 2939, unit: 'mV' } },
  },
  {
    hex: '5601cf38c1a44008bd13470c64cc0f',
    format: 'pvvx',
    mac: 'A4:C1:38:CF:01:56',
    values: { temperature: { value: 21.12, unit: '°C' }, humidity: { value: 50.53, unit: '%' }, battery_voltage: { value: 3143, unit: 'mV' }, battery: { value: 100, unit: '%' } },
  },
  {
    hex: '628f5238c1a48307e4128f0b64b40f',
    format: 'pvvx',
    mac: 'A4:C1:38:52:8F:62',
    values: { temperature: { value: 19.23, unit: '°C' }, humidity: { value: 48.36, unit: '%' }, battery_voltage: { value: 2959, unit: 'mV' }, battery: { value: 100, unit: '%' } },
  },
  {
    hex: '5601cf38c1a462fdbd13470c64cc0f',
    format: 'pvvx',
    mac: 'A4:C1:38:CF:01:56',
    values: { temperature: { value: -6.7, unit: '°C' }, humidity: { value: 50.53, unit: '%' }, battery_voltage: { value: 3143, unit: 'mV' }, battery: { value: 100, unit: '%' } },
  },
];

describe('pvvx and ATC1441 custom firmware (service 0x181A)', () => {
  for (const row of VECTORS) {
    it(`decodes ${row.format} ${row.hex}`, () => {
      const decoded = decodeAtcPvvx(bytes(row.hex));
      assert.equal(decoded.format, row.format);
      assert.deepEqual(decoded.values, row.values);
      assert.equal(decoded.payloadMac, row.mac);
      assert.equal(decoded.encrypted, false);
    });

    it(`${row.hex} cut at every byte offset is refused (13 bytes of pvvx are an ATC1441 frame)`, () => {
      assertEveryTruncation(bytes(row.hex), decodeAtcPvvx, { full: row.values, reasons: ['truncated', 'unknown-format'], otherLayouts: [13] });
    });
  }

  it('the frame counter is the repeat id', () => {
    assert.equal(decodeAtcPvvx(bytes('5601cf38c1a44008bd13470c64cc0f')).repeatId, 0xcc);
    assert.equal(decodeAtcPvvx(bytes('a4c138d5d49801453e510b7b62')).repeatId, 0x62);
  });

  it('refuses the encrypted custom formats and other lengths with a reason', () => {
    assertFails(() => decodeAtcPvvx(bytes('bd9dc54efab5000e')), 'unknown-format');
    assertFails(() => decodeAtcPvvx(bytes('bd9dc54efab5000e8bb807')), 'unknown-format');
    assertFails(() => decodeAtcPvvx(bytes('10c30c1c6400e6667fffaabbccddeeff')), 'unknown-format');
  });
});
