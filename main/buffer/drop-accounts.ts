import type { StoreSnapshot } from './store.js';
import type { BufferMetrics } from './metrics.js';
import type { DropReason, DropRecord } from './types.js';
import { DropLedger, type Drop, type DropDraft } from './drop-ledger.js';

/**
 * What the buffer dropped: counts by reason since this process started, and the drop records that
 * explain the gaps upstream, from drafting through storing to the uplink's acknowledgement.
 */
export class DropAccounts {
  private ledger = new DropLedger(1);
  private readonly counts: Record<DropReason, number> = { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 };
  /** Drop records of readings lost while storage failed, persisted by the next successful write. */
  private readonly unpersisted = new Map<number, DropRecord>();
  /** Drop records not yet acknowledged upstream. */
  private pendingRecords = 0;

  constructor(private readonly metrics: BufferMetrics | undefined) {}

  get byReason(): Record<DropReason, number> {
    return { ...this.counts };
  }

  get pendingRecordCount(): number {
    return this.pendingRecords;
  }

  get hasUnpersisted(): boolean {
    return this.unpersisted.size > 0;
  }

  opened(snapshot: Pick<StoreSnapshot, 'dropRecordCount' | 'maxDropRecordId'>): void {
    this.pendingRecords = snapshot.dropRecordCount;
    this.ledger = new DropLedger(snapshot.maxDropRecordId + 1);
  }

  count(reason: DropReason, count: number): void {
    this.counts[reason] += count;
    this.metrics?.drops.inc({ reason }, count);
  }

  draft(drops: readonly Drop[], now: number): DropDraft {
    return this.ledger.draft(drops, now);
  }

  /** The records a group commit stores: the draft's and those of readings lost while storage failed. */
  toWrite(draft: DropDraft): DropRecord[] {
    const records = new Map(this.unpersisted);
    for (const record of draft.records) records.set(record.id, record);
    return [...records.values()];
  }

  /** A group commit stored `toWrite(draft)`. */
  committed(draft: DropDraft): void {
    this.unpersisted.clear();
    this.written(draft);
  }

  /** `draft`'s records were stored. */
  written(draft: DropDraft): void {
    this.ledger.apply(draft);
    this.pendingRecords += draft.created;
  }

  /** Storage refused these readings: counted now, their records kept until a write succeeds. */
  lostUnwritten(drops: readonly Drop[], now: number): void {
    const draft = this.ledger.draft(drops, now);
    this.ledger.apply(draft);
    this.pendingRecords += draft.created;
    for (const record of draft.records) this.unpersisted.set(record.id, record);
    this.count('io-error', drops.length);
  }

  /** The store was replaced by an empty one: only the unpersisted records remain. */
  storeReplaced(): void {
    this.ledger.forgetOpen();
    this.pendingRecords = this.unpersisted.size;
  }

  handedOut(records: readonly DropRecord[]): void {
    this.ledger.handOut(records.map((record) => record.id));
  }

  acknowledged(ids: readonly number[], deleted: number): void {
    this.pendingRecords -= deleted;
    this.ledger.acknowledged(ids);
  }
}
