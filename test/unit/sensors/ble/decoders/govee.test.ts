import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeGovee } from '../../../../../main/sensors/ble/decoders/govee.js';
import type { Values } from '../../../../../main/shared/reading.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

const climate = (temperature: number, humidity: number, battery: number): Values => ({
  temperature: { value: temperature, unit: '°C' },
  humidity: { value: humidity, unit: '%' },
  battery: { value: battery, unit: '%' },
});

// Inputs (manufacturer data without the company id) and expected values: govee-ble tests/test_parser.py.
const VECTORS: Array<{ source: string; company: number; hex: string; values: Values; otherLayouts?: number[] }> = [
  { source: 'test_gvh5075 (GVH5075_SERVICE_INFO)', company: 0xec88, hex: '000341c26400', values: climate(21.3, 44.2, 100) },
  { source: 'test_gvh5075 (GVH5075_SERVICE_INFO_2, H5072/H5075)', company: 0xec88, hex: '00034db26400', values: climate(21.6, 49.8, 100) },
  { source: 'test_gvh5074', company: 0xec88, hex: '00e609bc126402', values: climate(25.34, 47.96, 100), otherLayouts: [6] },
  { source: 'test_gvh5177 (model H5101/H5102/H5177)', company: 0x0001, hex: '010103362664', values: climate(21, 47, 100) },
  { source: 'test_gvh5179', company: 0x8801, hex: 'ec0001010a0aa40664', values: climate(25.7, 17, 100) },
];

describe('Govee thermo-hygrometers (manufacturer data)', () => {
  for (const row of VECTORS) {
    it(`govee-ble ${row.source}`, () => {
      const decoded = decodeGovee(row.company, bytes(row.hex));
      assert.equal(decoded.format, 'govee');
      assert.deepEqual(decoded.values, row.values);
    });

    it(`${row.hex} cut at every byte offset is refused as truncated`, () => {
      assertEveryTruncation(bytes(row.hex), (data) => decodeGovee(row.company, data), { full: row.values, otherLayouts: row.otherLayouts ?? [] });
    });
  }

  it('H5075 with an iBeacon record merged into its manufacturer data (govee-ble GVH5075_SERVICE_INFO as macOS reports it)', () => {
    const merged = bytes(`000341c26400${'4c000215'}494e54454c4c495f524f434b535f48575075f2ff0c`);
    assert.deepEqual(decodeGovee(0xec88, merged).values, climate(21.3, 44.2, 100));
  });

  it('leaves out values a sensor error puts out of range (govee-ble test_gvh5075_negative_values: "error", battery 62)', () => {
    assert.deepEqual(decodeGovee(0xec88, bytes('00bc00043e27')).values, { humidity: { value: 16.4, unit: '%' }, battery: { value: 62, unit: '%' } });
  });

  it('reads a negative packed temperature (sign bit 0x800000)', () => {
    // 0x800000 | 73481 (−7.3 °C, 48.1 %): the layout of Theengs decoder's H5072/75 −7.3481 vector.
    assert.deepEqual(decodeGovee(0xec88, bytes('00811f096400')).values, climate(-7.3, 48.1, 100));
  });

  it('refuses a company id that is not a Govee model', () => {
    assertFails(() => decodeGovee(0x1234, bytes('000341c26400')), 'unknown-format');
  });
});
