import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineParserFor } from '../../../../main/sensors/serial/parsers/index.js';
import { serialPortSchema, type LinePortConfig } from '../../../../main/shared/config/serial.js';

const portOf = (settings: Record<string, unknown>): LinePortConfig =>
  serialPortSchema.parse({ id: 'p', path: '/dev/ttyUSB0', sensorId: 's', ...settings }) as LinePortConfig;

const jsonLine = (count: number): string => JSON.stringify(Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i])));

describe('values per reading', () => {
  it('by default takes 64 values and rejects a 65-value or 10,000-value line as too-many-values', () => {
    const parse = lineParserFor(portOf({ format: 'jsonl' }));
    const at = parse(jsonLine(64));
    assert.equal(at.ok && Object.keys(at.values).length, 64);
    for (const count of [65, 10_000]) {
      assert.deepEqual(parse(jsonLine(count)), {
        ok: false,
        reason: 'too-many-values',
        detail: `${count} values in one reading; at most 64 (maxValuesPerReading)`,
      });
    }
  });

  it('follows maxValuesPerReading for every line format', () => {
    const kv = lineParserFor(portOf({ format: 'kv', maxValuesPerReading: 2 }));
    assert.equal(kv('a=1 b=2').ok, true);
    assert.equal((kv('a=1 b=2 c=3') as { reason: string }).reason, 'too-many-values');
    assert.equal((kv('a=1 b=2 status=ok') as { ok: boolean }).ok, true, 'fields that are not values do not count');
    const jsonl = lineParserFor(portOf({ format: 'jsonl', maxValuesPerReading: 3 }));
    assert.equal((jsonl(jsonLine(4)) as { reason: string }).reason, 'too-many-values');
    const csv = lineParserFor(portOf({ format: 'csv', columns: ['skip', { quantity: 't' }, { quantity: 'h' }], maxValuesPerReading: 2 }));
    assert.equal(csv('1,2,3').ok, true);
  });
});
