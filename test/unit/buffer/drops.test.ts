import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Drops, type Drop } from '../../../main/buffer/drops.js';

const drops = (sensorId: string, reason: Drop['reason'], ...seqs: number[]): Drop[] => seqs.map((seq) => ({ sensorId, reason, seq }));
const ranges = (records: ReadonlyArray<{ sensorId: string; reason: string; firstSeq: number; lastSeq: number; count: number }>) =>
  records.map((r) => `${r.reason} ${r.sensorId} ${r.firstSeq}-${r.lastSeq} (${r.count})`);

function opened(maxDropRecordId = 0, dropRecordCount = 0): Drops {
  const subject = new Drops(undefined);
  subject.opened({ maxDropRecordId, dropRecordCount });
  return subject;
}

describe('Drops', () => {
  it('merges consecutive seqs of one sensor and reason into one record, numbered after the stored ones', () => {
    const subject = opened(7, 2);
    const draft = subject.draft([...drops('a', 'capacity', 1, 2, 3), ...drops('a', 'ttl', 4), ...drops('b', 'capacity', 9), ...drops('a', 'capacity', 5)], 100);
    assert.deepEqual(ranges(draft.records), ['capacity a 1-3 (3)', 'ttl a 4-4 (1)', 'capacity b 9-9 (1)', 'capacity a 5-5 (1)']);
    assert.deepEqual(
      draft.records.map((r) => r.id),
      [8, 9, 10, 11],
    );
    assert.equal(subject.pendingRecordCount, 2, 'a draft changes nothing until its commit is written');
    subject.committed(draft);
    assert.equal(subject.pendingRecordCount, 6);
  });

  it('extends the record of the last commit, but not one the uplink already fetched', () => {
    const subject = opened();
    const first = subject.draft(drops('a', 'capacity', 1, 2), 100);
    subject.committed(first);
    const extended = subject.draft(drops('a', 'capacity', 3), 200);
    assert.deepEqual(
      extended.records.map((r) => [r.id, r.firstSeq, r.lastSeq, r.ts]),
      [[1, 1, 3, 200]],
    );
    subject.handOut(first.records);
    assert.deepEqual(
      subject.draft(drops('a', 'capacity', 3), 200).records.map((r) => [r.id, r.firstSeq]),
      [[2, 3]],
      'a fetched record is never extended',
    );
  });

  it('keeps the records of readings lost while storage failed until a commit is written', () => {
    const subject = opened();
    subject.lostUnwritten(drops('a', 'io-error', 4, 5), 100);
    assert.equal(subject.byReason['io-error'], 2);
    assert.equal(subject.hasUnpersisted, true);
    const draft = subject.draft(drops('b', 'ttl', 1), 200);
    assert.deepEqual(ranges(subject.toWrite(draft)), ['io-error a 4-5 (2)', 'ttl b 1-1 (1)']);
    subject.committed(draft);
    assert.equal(subject.hasUnpersisted, false);
    assert.deepEqual(subject.toWrite(subject.draft([], 300)), []);
  });

  it('counts acknowledged records off and forgets a replaced store but its unpersisted records', () => {
    const subject = opened();
    const draft = subject.draft(drops('a', 'capacity', 1), 100);
    subject.committed(draft);
    subject.acknowledged([1], 1);
    assert.equal(subject.pendingRecordCount, 0);
    assert.equal(subject.draft(drops('a', 'capacity', 2), 100).records[0]?.id, 2, 'an acknowledged record is not extended');
    subject.lostUnwritten(drops('a', 'io-error', 3), 100);
    subject.committed(subject.draft(drops('a', 'capacity', 4), 100));
    subject.lostUnwritten(drops('a', 'io-error', 5), 100);
    subject.storeReplaced();
    assert.equal(subject.pendingRecordCount, 1, 'only the record not yet written survives the replacement');
    assert.deepEqual(
      subject.draft(drops('a', 'capacity', 5), 100).records.map((r) => r.id),
      [5],
      'ids keep counting up (1 to 4 were used), and the new store has no record to extend',
    );
  });
});
