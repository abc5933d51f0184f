// The short chaos run in CI: the same rig as `npm run chaos`, for 12 seconds of random gateway
// kills, broker restarts and stalls, and a full disk. Every accepted reading must be delivered or
// explained by a drop record, and no seq may be reused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconcile, runChaos } from '../../chaos/chaos-run.js';

test('reconcile: a gap is explained only by a drop record covering it; duplicates are counted', () => {
  const delivered = [1, 2, 2, 5].map((seq) => ({ sensor: 's', seq }));
  const partial = reconcile(new Map([['s', 6]]), delivered, [{ sensor: 's', reason: 'capacity', count: 2, firstSeq: 3, lastSeq: 4 }]);
  assert.deepEqual(partial.sensors.s, { accepted: 6, delivered: 3, duplicates: 1, dropped: 2, unexplained: [6], deliveredBeyondAccepted: 0, droppedButDelivered: 0 });
  assert.equal(partial.unexplainedLosses, 1);
  const beyond = reconcile(new Map([['s', 1]]), delivered, []);
  assert.equal(beyond.deliveredBeyondAccepted, 3, 'seqs above the last accepted one mean a seq was reused');
  assert.equal(reconcile(new Map([['s', 2]]), delivered, [{ sensor: 's', reason: 'ttl', count: 2, firstSeq: 1, lastSeq: 2 }]).droppedButDelivered, 2);
});

test('chaos (12 s): kills, broker restarts and stalls, a full disk; no unexplained loss', { timeout: 180_000 }, async () => {
  const summary = await runChaos({ seconds: 12, seed: Number(process.env.CHAOS_SEED ?? 13) });
  const detail = JSON.stringify({ ...summary, sensors: undefined });
  assert.ok(summary.accepted > 0 && summary.delivered > 0, detail);
  assert.ok(summary.killsSurvived + summary.actions['restart-broker'] + summary.actions['stall-broker'] + summary.actions['fill-disk'] > 0, detail);
  assert.equal(summary.unexplainedLosses, 0, detail);
  assert.equal(summary.deliveredBeyondAccepted, 0, detail);
});
