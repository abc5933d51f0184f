import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimit } from '../../../main/uplink/rate-limit.js';

describe('RateLimit (token bucket for the backlog drain cap)', () => {
  it('allows one second of burst, then refills at the rate', () => {
    const limit = new RateLimit(100, 0);
    assert.equal(limit.available(0, 1_000), 100);
    limit.take(100, 0);
    assert.equal(limit.available(0, 1_000), 0);
    assert.equal(limit.waitMs(0), 10);
    assert.equal(limit.available(250, 1_000), 25);
    assert.equal(limit.available(10_000, 1_000), 100, 'never more than one second of tokens');
    assert.equal(limit.available(10_000, 40), 40, 'at most the asked maximum');
  });
});
