import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeWire, isoTime } from '../../../main/buffer/wire.js';
import { expectedWire } from '../../helpers/wire.js';

describe('wire encoding', () => {
  it('formats timestamps exactly like Date#toISOString, in any order', () => {
    const minute = 60_000;
    const base = Date.UTC(2026, 0, 1, 23, 59);
    const samples = [
      base, base + 1, base + 9, base + 10, base + 99, base + 100, base + 999, base + 1_000, base + 9_999, base + 10_000,
      base + minute - 1, base + minute, base + minute + 1, base - 1, base + 59_999, base + 86_400_000,
      0, 1, -1, -59_999, -60_000, -60_001, -1_000, Date.UTC(0, 0, 1), Date.UTC(-1, 11, 31, 23, 59, 59, 999),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), 8.64e15, -8.64e15, 1.5, base + 0.25, -0.5,
    ];
    let seed = 7;
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      samples.push(base + (seed % (3 * minute)) - minute);
    }
    for (const ts of [...samples, ...samples.slice().reverse()]) assert.equal(isoTime(ts), new Date(ts).toISOString(), `ts ${ts}`);
  });

  it('encodes a reading byte-identically to JSON.stringify of its documented wire form', () => {
    const values = { temperature: { value: -3.25, unit: '°C' }, 'odd "key"': { value: 1e21, unit: 'µ\u2028' } };
    for (const ts of [Date.UTC(2026, 5, 1, 12, 0, 0, 7), Date.UTC(2026, 5, 1, 12, 0, 59, 999), -86_400_001]) {
      const reading = { sensorId: 'probe "7"\n', seq: 42, ts, values };
      assert.equal(encodeWire(reading.sensorId, reading.seq, reading.ts, JSON.stringify(values)), JSON.stringify(expectedWire(reading)));
    }
  });
});
