import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSwitchbot } from '../../../../../main/sensors/ble/decoders/switchbot.js';
import type { Values } from '../../../../../main/shared/reading.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

const climate = (temperature: number, humidity: number, battery: number): Values => ({
  temperature: { value: temperature, unit: '°C' },
  humidity: { value: humidity, unit: '%' },
  battery: { value: battery, unit: '%' },
});

// Inputs and expected values: Theengs decoder tests/BLE/test_ble.cpp (Switchbot_Meter, Switchbot_Meter_Plus).
const METERS: Array<{ hex: string; values: Values }> = [
  { hex: '6900ba18993b', values: climate(25.8, 59, 58) },
  { hex: '6900ba031938', values: climate(-25.3, 56, 58) },
  { hex: '6900ba379ab8', values: climate(26.7, 56, 58) },
  { hex: '540054459938', values: climate(25.5, 56, 84) },
  { hex: '5400d40299b8', values: climate(25.2, 56, 84) },
];

// Inputs: Theengs decoder tests (SwitchBot Outdoor Meter, manufacturer data 0x0969 without the company id);
// values per Theengs' Outdoor Meter decoder (tenths in byte 10's low nibble, degrees in byte 11, humidity in byte 12).
const OUTDOOR: Array<{ service: string; manufacturer: string; values: Values }> = [
  { service: '770064', manufacturer: 'aabbccddeeff8b0305993200', values: climate(25.5, 50, 100) },
  { service: '770064', manufacturer: 'aabbccddeeff940b039a5000', values: climate(26.3, 80, 100) },
  { service: '770041', manufacturer: 'aabbccddeeffe30f090f2a00', values: climate(-15.9, 42, 65) },
];

describe('SwitchBot Meter, Meter Plus and Outdoor Meter', () => {
  for (const row of METERS) {
    it(`decodes ${row.hex}`, () => {
      const decoded = decodeSwitchbot(bytes(row.hex), undefined);
      assert.equal(decoded.format, 'switchbot');
      assert.deepEqual(decoded.values, row.values);
    });

    it(`${row.hex} cut at every byte offset is refused as truncated`, () => {
      assertEveryTruncation(bytes(row.hex), (data) => decodeSwitchbot(data, undefined), { full: row.values });
    });
  }

  for (const row of OUTDOOR) {
    it(`decodes an Outdoor Meter: service ${row.service}, manufacturer ${row.manufacturer}`, () => {
      assert.deepEqual(decodeSwitchbot(bytes(row.service), bytes(row.manufacturer)).values, row.values);
    });

    it(`Outdoor Meter ${row.manufacturer} cut at every byte offset (either part) is refused as truncated`, () => {
      // The last manufacturer byte is not read: 11 bytes are a whole frame.
      assertEveryTruncation(bytes(row.manufacturer), (data) => decodeSwitchbot(bytes(row.service), data), { full: row.values, otherLayouts: [11] });
      assertEveryTruncation(bytes(row.service), (data) => decodeSwitchbot(data, bytes(row.manufacturer)), { full: row.values });
    });
  }

  it('an Outdoor Meter without its manufacturer data is refused; other SwitchBot devices are not meters', () => {
    assertFails(() => decodeSwitchbot(bytes('770064'), undefined), 'truncated');
    assertFails(() => decodeSwitchbot(bytes('48d0db'), undefined), 'unknown-format');
  });
});
