import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CsvColumn } from '../../../../main/shared/config/serial.js';
import { csvParser } from '../../../../main/sensors/serial/parsers/csv.js';
import { everySplit, linePort, parseStream } from './streams.js';

const columns: CsvColumn[] = [
  'sensorId',
  'skip',
  { quantity: 'temperature', unit: '°C', scale: 0.1, offset: 0 },
  { quantity: 'humidity', unit: '%', scale: 1, offset: 0 },
];
const options = { sensor: { kind: 'field' as const, field: 'sensorId', map: { '17': 'cellar' } }, delimiter: ',', columns };
const parse = csvParser(options);
const port = linePort({ format: 'csv', ...options });

describe('csv parser', () => {
  it('maps columns by position to quantities with unit and scale, and the sensor id column', () => {
    assert.deepEqual(parse('17, 2026-11-21T10:00:00Z, 231, 55'), {
      ok: true,
      sensorId: 'cellar',
      values: { temperature: { value: 23.1, unit: '°C' }, humidity: { value: 55, unit: '%' } },
    });
    assert.deepEqual(parse('"17",x,"231",'), { ok: true, sensorId: 'cellar', values: { temperature: { value: 23.1, unit: '°C' } } });
  });

  it('uses the configured delimiter and a fixed sensor id', () => {
    const semicolon = csvParser({ sensor: { kind: 'fixed', sensorId: 's1' }, delimiter: ';', columns: [{ quantity: 'co2', unit: 'ppm', scale: 1, offset: 0 }] });
    assert.deepEqual(semicolon('412'), { ok: true, sensorId: 's1', values: { co2: { value: 412, unit: 'ppm' } } });
  });

  it('rejects wrong column counts, non-numbers, unknown sensors and empty rows by reason', () => {
    assert.equal((parse('17,x,231') as { reason: string }).reason, 'column-count');
    assert.equal((parse('17,x,231,55,9') as { reason: string }).reason, 'column-count');
    assert.equal((parse('17,x,warm,55') as { reason: string }).reason, 'bad-value');
    assert.equal((parse('18,x,231,55') as { reason: string }).reason, 'unknown-sensor');
    assert.equal((parse('17,x,,') as { reason: string }).reason, 'no-values');
    assert.equal((parse('id,time,temperature,humidity') as { reason: string }).reason, 'bad-value');
  });

  it('parses a stream the same at every split offset', () => {
    const input = Buffer.from('17,a,231,55\n17,b,oops,1\r\n17,c,-12,40\n', 'utf8');
    const expected = parseStream(port, [input]);
    assert.deepEqual(
      expected.map((r) => (typeof r === 'string' ? r : r.ok ? r.values.temperature?.value : r.reason)),
      [23.1, 'bad-value', -1.2],
    );
    for (const chunks of everySplit(input)) assert.deepEqual(parseStream(port, chunks), expected);
  });
});
