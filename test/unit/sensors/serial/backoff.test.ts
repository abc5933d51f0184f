import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../../main/sensors/serial/backoff.js';

describe('Backoff', () => {
  it('doubles the ceiling per attempt up to the cap, with full jitter below it', () => {
    const top = new Backoff({ baseMs: 250, capMs: 2000, random: () => 0.999999 });
    assert.deepEqual(Array.from({ length: 6 }, () => top.nextDelayMs()), [249, 499, 999, 1999, 1999, 1999]);
    const bottom = new Backoff({ baseMs: 250, capMs: 2000, random: () => 0 });
    assert.deepEqual(Array.from({ length: 3 }, () => bottom.nextDelayMs()), [0, 0, 0]);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ baseMs: 100, capMs: 10_000, random: () => 0.5 });
    for (let i = 0; i < 5; i++) backoff.nextDelayMs();
    backoff.reset();
    assert.equal(backoff.nextDelayMs(), 50);
  });
});
