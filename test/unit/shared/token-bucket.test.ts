import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../../main/shared/token-bucket.js';

describe('TokenBucket (the backlog drain cap)', () => {
  it('allows one second of burst, then refills at the rate', () => {
    const limit = new TokenBucket(100);
    assert.equal(limit.available(0, 1_000), 100);
    limit.take(100, 0);
    assert.equal(limit.available(0, 1_000), 0);
    assert.equal(limit.waitMs(0), 10);
    assert.equal(limit.available(250, 1_000), 25);
    assert.equal(limit.available(10_000, 1_000), 100, 'never more than one second of tokens');
    assert.equal(limit.available(10_000, 40), 40, 'at most the asked maximum');
  });
});

describe('TokenBucket (the serial lines-per-second cap)', () => {
  it('allows a burst of one second, then the sustained rate', () => {
    const limiter = new TokenBucket(10);
    const taken = (at: number, tries: number): number => Array.from({ length: tries }, () => limiter.tryTake(at)).filter(Boolean).length;
    assert.equal(taken(0, 50), 10);
    assert.equal(taken(500, 50), 5);
    assert.equal(taken(10_500, 50), 10);
  });
});
