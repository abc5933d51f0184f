import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePayloads, knownFrame } from '../../../../../main/sensors/ble/decoders/index.js';
import { decodeInkbird } from '../../../../../main/sensors/ble/decoders/inkbird.js';
import type { Values } from '../../../../../main/shared/reading.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

// Inputs (name, company id = temperature, data) and expected values: inkbird-ble tests/test_parser.py.
const VECTORS: Array<{ source: string; name: string; company: number; hex: string; values: Values }> = [
  {
    source: 'test_sps (IBS-TH1)',
    name: 'sps',
    company: 2044,
    hex: 'c71200c83d5606',
    values: { temperature: { value: 20.44, unit: '°C' }, humidity: { value: 48.07, unit: '%' }, external_probe: { value: 0, unit: 'bool' }, battery: { value: 86, unit: '%' } },
  },
  {
    source: 'test_sps_variant2',
    name: 'sps',
    company: 2363,
    hex: 'd01300ce906406',
    values: { temperature: { value: 23.63, unit: '°C' }, humidity: { value: 50.72, unit: '%' }, external_probe: { value: 0, unit: 'bool' }, battery: { value: 100, unit: '%' } },
  },
  {
    source: 'test_unknown_tps (IBS-TH2, temperature only)',
    name: 'tps',
    company: 2120,
    hex: '000000c66e0d06',
    values: { temperature: { value: 21.2, unit: '°C' }, external_probe: { value: 0, unit: 'bool' }, battery: { value: 13, unit: '%' } },
  },
];

describe('Inkbird IBS-TH1/IBS-TH2 (temperature in the company id)', () => {
  for (const row of VECTORS) {
    it(`inkbird-ble ${row.source}`, () => {
      const decoded = decodeInkbird(row.name, row.company, bytes(row.hex));
      assert.equal(decoded.format, 'inkbird');
      assert.deepEqual(decoded.values, row.values);
    });

    it(`${row.hex} cut at every byte offset is refused as truncated`, () => {
      assertEveryTruncation(bytes(row.hex), (data) => decodeInkbird(row.name, row.company, data), { full: row.values });
    });
  }

  it('reads a negative temperature and the external probe flag (Theengs decoder: Inkbird TH1 f009fe1301ca893008 shape)', () => {
    const decoded = decodeInkbird('sps', 0xfb76, bytes('1e1401ca893008'));
    assert.deepEqual(decoded.values.temperature, { value: -11.62, unit: '°C' });
    assert.deepEqual(decoded.values.external_probe, { value: 1, unit: 'bool' });
  });

  it('needs the advertised name: inkbird-ble test_unsupported_with_manufacturer_data (name "x") is refused', () => {
    assertFails(() => decodeInkbird('x', 2044, bytes('c71200c83d5606')), 'unknown-format');
  });
});

describe('Inkbird through the dispatch', () => {
  it('a new temperature (in the company id) with the same data bytes is a new frame', () => {
    const payloads = (company: number) => ({ serviceData: new Map(), manufacturerData: new Map([[company, bytes('c71200c83d5606')]]), localName: 'sps' });
    assert.notDeepEqual(knownFrame(payloads(2044)), knownFrame(payloads(2045)));
    assert.deepEqual(decodePayloads(payloads(2045)).values.temperature, { value: 20.45, unit: '°C' });
  });
});
