import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refusalClass } from '../../../main/uplink/errors.js';
import { MAX_REFUSALS } from '../../../main/shared/config/cloud.js';
import { RefusalTracker } from '../../../main/uplink/refusals.js';

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

  it('an accepted message of the reading clears its count', () => {
    const tracker = new RefusalTracker(2);
    assert.equal(tracker.refused([5]), 'retry');
    tracker.acceptedMessage([5]);
    assert.equal(tracker.isSuspect(5), false);
    assert.equal(tracker.refused([5]), 'retry');
    tracker.acceptedMessage([6]);
    assert.equal(tracker.refused([5]), 'set-aside');
  });

  it('without other readings accepted since its first refusal, a reading at the limit is held, waits unsent, and gets one more try after an acceptance', () => {
    const tracker = new RefusalTracker(2);
    tracker.acceptedMessage([100]); // acceptances before the refusals prove nothing about them
    assert.equal(tracker.refused([1]), 'retry');
    assert.equal(tracker.refused([1]), 'hold');
    assert.equal(tracker.heldCount, 1);
    assert.deepEqual(tracker.connectionEnded(), [1]);
    assert.ok(tracker.mustWait(1), 'not sent again while nothing else gets through');
    assert.equal(tracker.withhold(1, 'refused'), 'hold');
    assert.deepEqual(tracker.acceptedMessage([3]), { setAside: [], retry: [1] });
    assert.equal(tracker.mustWait(1), false, 'tried once more');
    assert.equal(tracker.refused([1]), 'set-aside', 'refused again after the broker took other readings');
  });

  it('a broker fixed meanwhile: the retried reading is accepted and forgotten', () => {
    const tracker = new RefusalTracker(1);
    assert.equal(tracker.refused([1]), 'hold');
    assert.deepEqual(tracker.acceptedMessage([2]), { setAside: [], retry: [1] });
    tracker.acceptedMessage([1]);
    assert.equal(tracker.isSuspect(1), false);
  });

  it('a reading too large for the broker is set aside at once when others got through since it was seen, else held until then', () => {
    const tracker = new RefusalTracker(3);
    assert.equal(tracker.withhold(9, 'oversize'), 'hold');
    assert.deepEqual(tracker.acceptedMessage([10]), { setAside: [9], retry: [] });
    assert.equal(tracker.withhold(11, 'oversize'), 'hold', 'the acceptance came before 11 was seen');
    assert.deepEqual(tracker.acceptedMessage([12]), { setAside: [11], retry: [] });
    tracker.refused([13, 14]);
    tracker.acceptedMessage([15]);
    assert.equal(tracker.withhold(13, 'oversize'), 'set-aside');
  });

  it('gives up on held readings when the broker seems to refuse everything: their counts start over', () => {
    const tracker = new RefusalTracker(1);
    for (const id of [1, 2, 3]) assert.equal(tracker.refused([id]), 'hold');
    assert.deepEqual(tracker.giveUpHeld(), [1, 2, 3]);
    assert.equal(tracker.heldCount, 0);
    assert.ok([1, 2, 3].every((id) => !tracker.isSuspect(id) && !tracker.mustWait(id)));
  });

  it('keeps counts when the connection ends', () => {
    const tracker = new RefusalTracker(2);
    tracker.refused([4]);
    assert.deepEqual(tracker.connectionEnded(), []);
    tracker.acceptedMessage([5]);
    assert.equal(tracker.refused([4]), 'set-aside');
  });
});
