import type { StoreSnapshot } from './store.js';
import type { BufferMetrics } from './metrics.js';
import type { DropReason, DropRecord } from './types.js';

/** One dropped reading. */
export interface Drop {
  sensorId: string;
  seq: number;
  reason: DropReason;
}

/** Drop records a group commit would insert or update; they count only once that commit is written. */
export interface DropDraft {
  records: DropRecord[];
  created: number;
  open: Map<string, DropRecord>;
  nextId: number;
}

/**
 * What the buffer dropped: counts by reason since this process started, and the drop records that
 * explain the gaps upstream, from drafting through storing to the uplink's acknowledgement.
 * Consecutive seqs of one sensor and reason extend the same record, unless the uplink already
 * fetched it (then a new one starts, so an ack never deletes a range the cloud has not seen).
 */
export class Drops {
  private readonly counts: Record<DropReason, number> = { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 };
  /** The newest record per reason and sensor: the one the next consecutive drop extends. */
  private open = new Map<string, DropRecord>();
  private readonly handedOut = new Set<number>();
  private nextId = 1;
  /** Drop records of readings lost while storage failed, stored by the next group commit that is written. */
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
    this.open = new Map();
    this.handedOut.clear();
    this.nextId = snapshot.maxDropRecordId + 1;
  }

  count(reason: DropReason, count: number): void {
    this.counts[reason] += count;
    this.metrics?.drops.inc({ reason }, count);
  }

  /** `drops` must list each sensor's seqs in ascending order. Changes no state. */
  draft(drops: readonly Drop[], now: number): DropDraft {
    const open = new Map(this.open);
    const touched = new Map<number, DropRecord>();
    let nextId = this.nextId;
    let created = 0;
    for (const drop of drops) {
      const key = `${drop.reason}\u0000${drop.sensorId}`;
      const current = open.get(key);
      let record: DropRecord;
      if (current && !this.handedOut.has(current.id) && drop.seq === current.lastSeq + 1) {
        record = { ...current, count: current.count + 1, lastSeq: drop.seq, ts: now };
      } else {
        record = { id: nextId++, sensorId: drop.sensorId, reason: drop.reason, count: 1, firstSeq: drop.seq, lastSeq: drop.seq, ts: now };
        created++;
      }
      open.set(key, record);
      touched.set(record.id, record);
    }
    return { records: [...touched.values()], created, open, nextId };
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
    this.apply(draft);
  }

  /** Storage refused these readings: counted now, their records kept until a group commit is written. */
  lostUnwritten(drops: readonly Drop[], now: number): void {
    const draft = this.draft(drops, now);
    this.apply(draft);
    for (const record of draft.records) this.unpersisted.set(record.id, record);
    this.count('io-error', drops.length);
  }

  /** The store was replaced by an empty one: the records it would extend are gone (ids keep counting up), only the unpersisted remain. */
  storeReplaced(): void {
    this.open = new Map();
    this.pendingRecords = this.unpersisted.size;
  }

  handOut(records: readonly DropRecord[]): void {
    for (const record of records) this.handedOut.add(record.id);
  }

  acknowledged(ids: readonly number[], deleted: number): void {
    this.pendingRecords -= deleted;
    const gone = new Set(ids);
    for (const id of ids) this.handedOut.delete(id);
    for (const [key, record] of this.open) if (gone.has(record.id)) this.open.delete(key);
  }

  private apply(draft: DropDraft): void {
    this.open = draft.open;
    this.nextId = draft.nextId;
    this.pendingRecords += draft.created;
  }
}
