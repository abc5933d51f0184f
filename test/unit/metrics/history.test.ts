import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThroughputHistory } from '../../../main/metrics/history.js';

function rig() {
  const clock = { t: Date.UTC(2026, 0, 1), now() { return this.t; } };
  let depth = 0;
  const history = new ThroughputHistory({ clock, depth: () => depth, intervalMs: 10_000, windowMs: 60_000 });
  return {
    history,
    clock,
    setDepth(d: number) { depth = d; },
    interval(counts: Record<string, number>) {
      for (const [sensor, n] of Object.entries(counts)) for (let i = 0; i < n; i++) history.count(sensor);
      clock.t += 10_000;
      history.sample();
    },
  };
}

test('each interval gives the total rate, per-sensor rates and the buffer depth', async () => {
  const { history, interval, setDepth, clock } = rig();
  await history.start();
  await history.stop();
  setDepth(7);
  interval({ t1: 50, t2: 30 });
  setDepth(3);
  interval({ t1: 10 });
  assert.deepEqual(history.query(), {
    intervalMs: 10_000,
    points: [
      { ts: clock.t - 10_000, rate: 8, depth: 7 },
      { ts: clock.t, rate: 1, depth: 3 },
    ],
  });
  assert.deepEqual(history.query({ sensor: 't2' }).points.map((p) => p.rate), [3, 0]);
  assert.deepEqual(history.query({ sensor: 'nobody' }).points.map((p) => p.rate), [0, 0]);
  assert.deepEqual(history.query({ windowMs: 10_000 }).points.map((p) => p.rate), [1]);
});

test('only the window is kept; a sensor silent for the whole window is forgotten', () => {
  const { history, interval } = rig();
  interval({ t1: 10, old: 10 });
  for (let i = 0; i < 6; i++) interval({ t1: 20 });
  const points = history.query().points;
  assert.equal(points.length, 6);
  assert.ok(points.every((p) => p.rate === 2));
  assert.deepEqual(history.query({ sensor: 'old' }).points.map((p) => p.rate), [0, 0, 0, 0, 0, 0]);
});
