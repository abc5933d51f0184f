import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSample } from '../../../main/buffer/sample-check.js';
import type { Sample } from '../../../main/shared/reading.js';

const good: Sample = { sensorId: 't1', ts: Date.UTC(2026, 0, 1), values: { temperature: { value: 21.5, unit: '°C' } } };

describe('checkSample', () => {
  it('accepts a sample it can store and send faithfully, including one without values', () => {
    checkSample(good);
    checkSample({ ...good, values: {} });
    checkSample({ ...good, ts: -8.64e15 });
  });

  it('names the field and the bad value', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, sensorId: '' }, /^"sample\.sensorId": expected a non-empty string, got ""$/],
      [{ ...good, sensorId: undefined }, /^"sample\.sensorId": expected a non-empty string, got nothing$/],
      [{ ...good, ts: 8.64e15 + 1 }, /^"sample\.ts": expected epoch milliseconds, got 8640000000000001$/],
      [{ ...good, ts: '2026-01-01' }, /^"sample\.ts": expected epoch milliseconds, got "2026-01-01"$/],
      [{ ...good, values: [] }, /^"sample\.values": expected an object of \{value, unit\}, got \[\]$/],
      [{ ...good, values: { t: { value: Number.POSITIVE_INFINITY, unit: 'C' } } }, /^"sample\.values\.t\.value": expected a finite number, got Infinity$/],
      [{ ...good, values: { t: { value: 1 } } }, /^"sample\.values\.t\.unit": expected a string, got nothing$/],
    ];
    for (const [sample, message] of cases) assert.throws(() => checkSample(sample as Sample), { name: 'RangeError', message });
  });
});
