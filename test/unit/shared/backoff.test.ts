import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../main/shared/backoff.js';

function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

describe('Backoff (exponential, full jitter, capped, reset when stable)', () => {
  it('doubles the cap per failure up to maxMs and draws uniformly below it', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, stableMs: 10_000, random: () => 0.999999 });
    const delays = Array.from({ length: 7 }, () => backoff.nextDelay(0));
    assert.deepEqual(delays, [99, 199, 399, 799, 999, 999, 999]);
  });

  it('is full jitter: the random draw scales the whole delay, down to 0', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, stableMs: 10_000, random: sequence([0, 0.5, 0.25]) });
    assert.deepEqual([backoff.nextDelay(0), backoff.nextDelay(0), backoff.nextDelay(0)], [0, 100, 100]);
  });

  it('resets after a connection that stayed up for stableMs', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, stableMs: 5_000, random: () => 0.5 });
    for (let i = 0; i < 5; i++) backoff.nextDelay(0);
    assert.equal(backoff.currentCap(), 3_200);
    backoff.connected(1_000);
    assert.equal(backoff.nextDelay(6_000), 50, 'stable for 5 s: back to initialMs');
  });

  it('keeps growing when connections drop before they are stable', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, stableMs: 5_000, random: () => 0.5 });
    backoff.nextDelay(0);
    backoff.nextDelay(0);
    backoff.connected(1_000);
    assert.equal(backoff.nextDelay(5_999), 200, 'up for 4.999 s only: the cap keeps doubling');
  });

  it('does not overflow after very many failures', () => {
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 60_000, stableMs: 1, random: () => 0.5 });
    for (let i = 0; i < 10_000; i++) backoff.nextDelay(0);
    assert.equal(backoff.nextDelay(0), 30_000);
  });
});

describe('Backoff with the serial port options', () => {
  it('doubles the ceiling per attempt up to the cap, with full jitter below it', () => {
    const top = new Backoff({ initialMs: 250, maxMs: 2000, stableMs: 10_000, random: () => 0.999999 });
    assert.deepEqual(Array.from({ length: 6 }, () => top.nextDelay(0)), [249, 499, 999, 1999, 1999, 1999]);
    const bottom = new Backoff({ initialMs: 250, maxMs: 2000, stableMs: 10_000, random: () => 0 });
    assert.deepEqual(Array.from({ length: 3 }, () => bottom.nextDelay(0)), [0, 0, 0]);
  });

  it('starts over after a port stayed open for stableMs', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, stableMs: 10_000, random: () => 0.5 });
    for (let i = 0; i < 5; i++) backoff.nextDelay(0);
    backoff.connected(0);
    assert.equal(backoff.nextDelay(10_000), 50);
  });
});
