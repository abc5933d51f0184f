import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SensorIntervals } from '../../../main/alerts/sensor-intervals.js';

// The flooding rule's baseline: learned per second of time (not per sample), from samples older
// than the rate window, so that a flood cannot teach it before the rule sees the flood.
describe('SensorIntervals', () => {
  const start = Date.UTC(2026, 0, 1);
  function steady(intervals: SensorIntervals, from: number, seconds: number, perSecond: number): number {
    let at = from;
    for (let i = 0; i < seconds * perSecond; i++) intervals.observe('t1', (at += 1000 / perSecond));
    return at;
  }

  it('learns the rate of a steady sensor, bursts included', () => {
    const intervals = new SensorIntervals();
    assert.equal(intervals.baselineRate('t1'), undefined);
    let at = start;
    // Ten samples at once every second (a simulator's tick): 10 per second.
    for (let s = 0; s < 60; s++) for (let i = 0; i < 10; i++) intervals.observe('t1', (at = start + s * 1000));
    assert.ok(Math.abs((intervals.baselineRate('t1') ?? 0) - 10) < 0.5, String(intervals.baselineRate('t1')));
    assert.ok(at > start);
  });

  it('a flood does not move the baseline while it is held, and nothing of it is learned once frozen', () => {
    const intervals = new SensorIntervals();
    let at = steady(intervals, start, 60, 2);
    const before = intervals.baselineRate('t1') as number;
    assert.ok(Math.abs(before - 2) < 0.2, String(before));
    // Nine seconds at 200/s: still held; the baseline learned only the steady seconds that left the hold.
    at = steady(intervals, at, 9, 200);
    assert.ok(Math.abs((intervals.baselineRate('t1') as number) - 2) < 0.2, String(intervals.baselineRate('t1')));
    // The rule sees the flood at every check and freezes the baseline each time.
    for (let s = 0; s < 30; s++) {
      intervals.freeze('t1', at);
      at = steady(intervals, at, 1, 200);
    }
    intervals.freeze('t1', at);
    steady(intervals, at, 30, 2);
    assert.ok(Math.abs((intervals.baselineRate('t1') as number) - 2) < 0.2, String(intervals.baselineRate('t1')));
  });

  it('an hour unplugged lowers the baseline by at most a few minutes of silence', () => {
    const intervals = new SensorIntervals();
    const at = steady(intervals, start, 1200, 1);
    intervals.observe('t1', at + 3_600_000);
    const after = intervals.baselineRate('t1') as number;
    assert.ok(after > 0.5 && after < 1, String(after));
  });
});
