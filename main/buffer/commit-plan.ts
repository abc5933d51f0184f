import type { BufferConfig } from '../shared/config/buffer.js';
import type { ChangeSet, Store, StoredRow } from './store.js';
import type { DropDraft } from './drop-ledger.js';
import type { DropAccounts } from './drop-accounts.js';
import type { PendingAppend } from './group-commit.js';
import type { InFlight } from './in-flight.js';
import type { SensorSeqs } from './sensor-seqs.js';
import type { StoredTotals } from './stored-totals.js';
import { fitBatch } from './capacity-policy.js';

/** One group commit, worked out before it is written. */
export interface CommitPlan {
  changes: ChangeSet;
  accepted: PendingAppend[];
  refused: PendingAppend[];
  evicted: StoredRow[];
  ackedIds: number[];
  ackedBytes: number;
  draft: DropDraft;
  at: number;
}

export interface CommitInput {
  store: Store;
  batch: PendingAppend[];
  now: number;
  /** Rows to evict even when the batch fits (drop-oldest making room on a full disk). */
  extraEvictions: number;
  options: Pick<BufferConfig, 'maxRows' | 'maxBytes' | 'fullPolicy'>;
  totals: StoredTotals;
  inFlight: InFlight;
  seqs: SensorSeqs;
  drops: DropAccounts;
}

/**
 * Everything one group commit writes: the batch (as far as the capacity policy lets it in), the
 * deletion of acknowledged and evicted rows, advanced seqs and drop records. Changes no state.
 */
export function planCommit({ store, batch, now, extraEvictions, options, totals, inFlight, seqs, drops }: CommitInput): CommitPlan {
  const { ids: ackedIds, bytes: ackedBytes } = inFlight.pendingDeletes();
  const { accepted, refused, evicted } = fitBatch({
    batch,
    rows: totals.depth - ackedIds.length,
    bytes: totals.bytes - ackedBytes,
    limits: options,
    extraEvictions,
    store,
    inFlight,
  });
  const at = Math.max(now, totals.lastAt);
  const inserts = accepted.map(
    (item, index): StoredRow => ({
      id: totals.nextId + index,
      sensorId: item.sample.sensorId,
      seq: item.seq,
      ts: item.sample.ts,
      at,
      size: item.size,
      valuesJson: item.valuesJson,
      wire: item.wire,
    }),
  );
  const draft = drops.draft(
    [
      ...evicted.map((row) => ({ sensorId: row.sensorId, seq: row.seq, reason: 'capacity' as const })),
      ...refused.map((item) => ({ sensorId: item.sample.sensorId, seq: item.seq, reason: 'capacity' as const })),
    ],
    now,
  );
  const changes: ChangeSet = {
    inserts,
    deletes: [...ackedIds, ...evicted.map((row) => row.id)],
    seqs: seqs.toWrite(),
    dropRecords: drops.toWrite(draft),
  };
  return { changes, accepted, refused, evicted, ackedIds, ackedBytes, draft, at };
}
