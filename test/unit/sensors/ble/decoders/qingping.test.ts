import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeQingping } from '../../../../../main/sensors/ble/decoders/qingping.js';
import type { Values } from '../../../../../main/shared/reading.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

// Inputs: qingping-ble tests/test_parser.py service data; values per its expected SensorUpdates.
const VECTORS: Array<{ source: string; hex: string; values: Values }> = [
  {
    source: 'ALARM_CLOCK (CGD1): 28.8 °C, 43.4 %, battery 100',
    hex: '080c344d56342d58010420 01b2010201 64'.replace(/ /g, ''),
    values: { temperature: { value: 28.8, unit: '°C' }, humidity: { value: 43.4, unit: '%' }, battery: { value: 100, unit: '%' } },
  },
  {
    source: 'QINGPING_CO2_TEMP_RH (CGP22C): CO2 655 ppm',
    hex: '88336f6c82342d580104ee003d0102015d13028f02',
    values: { temperature: { value: 23.8, unit: '°C' }, humidity: { value: 31.7, unit: '%' }, battery: { value: 93, unit: '%' }, co2: { value: 655, unit: 'ppm' } },
  },
  {
    source: 'AIR_MONITOR (CGDN1): PM2.5/PM10 and CO2',
    hex: '880ed6888fe6485401040301160212040200020013022502',
    values: {
      temperature: { value: 25.9, unit: '°C' },
      humidity: { value: 53.4, unit: '%' },
      pm2_5: { value: 2, unit: 'µg/m³' },
      pm10: { value: 2, unit: 'µg/m³' },
      co2: { value: 549, unit: 'ppm' },
    },
  },
  {
    source: 'QINGPING_TEMP_RH_MONITOR_PRO: pressure',
    hex: '881807224034 2d58010418 01cd00020161070273 27'.replace(/ /g, ''),
    values: { temperature: { value: 28, unit: '°C' }, humidity: { value: 20.5, unit: '%' }, battery: { value: 97, unit: '%' }, pressure: { value: 1009.9, unit: 'hPa' } },
  },
];

describe('Qingping (service 0xFDCD)', () => {
  for (const row of VECTORS) {
    it(`qingping-ble ${row.source}`, () => {
      const decoded = decodeQingping(bytes(row.hex));
      assert.equal(decoded.format, 'qingping');
      assert.deepEqual(decoded.values, row.values);
    });

    it(`${row.hex} cut at every byte offset is refused as truncated or decodes the records before the cut`, () => {
      assertEveryTruncation(bytes(row.hex), decodeQingping, { full: row.values });
    });
  }

  it('reads the MAC reversed from bytes 2-7 (qingping-ble QINGPING_CGP22C_REAL, address 58:2D:34:86:1D:93)', () => {
    assert.equal(decodeQingping(bytes('0a5d931d86342d58010417 01ce01020164130 2b302'.replace(/ /g, ''))).payloadMac, '58:2D:34:86:1D:93');
  });

  it('skips unknown records by length and refuses a known record of the wrong size', () => {
    assert.deepEqual(decodeQingping(bytes('080c344d56342d580f01ee020164')).values, { battery: { value: 100, unit: '%' } });
    assertFails(() => decodeQingping(bytes('080c344d56342d58010220 01')), 'malformed');
  });
});
