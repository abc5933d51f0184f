import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_REFUSALS, RefusalTracker, refusalClass } from '../../../main/uplink/refusals.js';

describe('refusalClass', () => {
  it('counts only content refusals as permanent; ACL and topic refusals are configuration; the rest transient', () => {
    assert.equal(refusalClass(0x99), 'permanent');
    assert.equal(refusalClass(0x95), 'permanent');
    assert.equal(refusalClass(0x87), 'configuration');
    assert.equal(refusalClass(0x90), 'configuration');
    for (const code of [0x80, 0x83, 0x91, 0x97]) assert.equal(refusalClass(code), 'transient', `0x${code.toString(16)}`);
  });
});

describe('RefusalTracker', () => {
  it('makes every reading of a refused batch a suspect, without counting it yet', () => {
    const tracker = new RefusalTracker(3);
    assert.equal(tracker.refused([1, 2, 3]), 'retry');
    assert.ok([1, 2, 3].every((id) => tracker.isSuspect(id)));
    assert.equal(tracker.isSuspect(4), false);
    tracker.acceptedMessage([1]);
    tracker.acceptedMessage([3]);
    // 2 alone: three refusals to go, the batch refusal did not count.
    assert.equal(tracker.refused([2]), 'retry');
    assert.equal(tracker.refused([2]), 'retry');
    assert.equal(tracker.refused([2]), 'set-aside');
    assert.equal(tracker.isSuspect(2), false, 'forgotten once set aside');
    assert.equal(tracker.isSuspect(1), false, 'accepted readings are cleared');
  });

  it(`sets a reading aside after ${MAX_REFUSALS} refusals alone by default`, () => {
    const tracker = new RefusalTracker();
    tracker.refused([7]);
    tracker.acceptedMessage([8]);
    const verdicts = Array.from({ length: MAX_REFUSALS - 1 }, () => tracker.refused([7]));
    assert.deepEqual(verdicts, [...Array.from({ length: MAX_REFUSALS - 2 }, () => 'retry'), 'set-aside']);
  });

  it('an accepted message clears the count: only consecutive refusals add up', () => {
    const tracker = new RefusalTracker(2);
    assert.equal(tracker.refused([5]), 'retry');
    tracker.acceptedMessage([5]);
    assert.equal(tracker.refused([5]), 'retry');
    tracker.acceptedMessage([6]);
    assert.equal(tracker.refused([5]), 'set-aside');
  });

  it('holds instead of setting aside while the broker accepted nothing since the first refusal, then releases on an acceptance', () => {
    const tracker = new RefusalTracker(2);
    tracker.acceptedMessage([100]); // acceptances before the refusals prove nothing about them
    assert.equal(tracker.refused([1]), 'retry');
    assert.equal(tracker.refused([1]), 'hold');
    assert.equal(tracker.refused([2]), 'retry');
    assert.equal(tracker.refused([2]), 'hold');
    assert.equal(tracker.heldCount, 2);
    assert.deepEqual(tracker.acceptedMessage([3]).sort(), [1, 2]);
    assert.equal(tracker.heldCount, 0);
    assert.equal(tracker.isSuspect(1), false);
  });

  it('a reading too large for the broker is set aside at once when others get through, else held', () => {
    const tracker = new RefusalTracker(3);
    assert.equal(tracker.unsendable(9), 'hold');
    assert.deepEqual(tracker.acceptedMessage([10]), [9]);
    assert.equal(tracker.unsendable(11), 'hold', 'the acceptance came before 11 was seen');
    assert.deepEqual(tracker.acceptedMessage([12]), [11]);
    tracker.refused([13, 14]);
    tracker.acceptedMessage([15]);
    assert.equal(tracker.unsendable(13), 'set-aside');
  });

  it('gives held readings back when the connection ends and keeps their counts', () => {
    const tracker = new RefusalTracker(1);
    assert.equal(tracker.refused([4]), 'hold');
    assert.deepEqual(tracker.connectionEnded(), [4]);
    assert.equal(tracker.heldCount, 0);
    assert.ok(tracker.isSuspect(4));
    tracker.acceptedMessage([5]);
    assert.equal(tracker.refused([4]), 'set-aside', 'still over the limit on the next connection');
  });
});
