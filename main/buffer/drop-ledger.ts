import type { DropReason, DropRecord } from './types.js';

export interface Drop {
  sensorId: string;
  seq: number;
  reason: DropReason;
}

/** Drop records a write would insert or update; applied to the ledger only once persisted. */
export interface DropDraft {
  records: DropRecord[];
  created: number;
  open: Map<string, DropRecord>;
  nextId: number;
}

/**
 * Turns dropped readings into few drop records: consecutive seqs of one sensor and reason extend
 * the same record, unless the uplink already fetched it (then a new one starts, so an ack never
 * deletes a range the cloud has not seen).
 */
export class DropLedger {
  private open = new Map<string, DropRecord>();
  private readonly handedOut = new Set<number>();

  constructor(private nextId: number) {}

  /** `drops` must list each sensor's seqs in ascending order. */
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

  apply(draft: DropDraft): void {
    this.open = draft.open;
    this.nextId = draft.nextId;
  }

  /** The records it would extend are gone (their file was replaced); ids keep counting up. */
  forgetOpen(): void {
    this.open = new Map();
  }

  handOut(ids: Iterable<number>): void {
    for (const id of ids) this.handedOut.add(id);
  }

  acknowledged(ids: readonly number[]): void {
    const gone = new Set(ids);
    for (const id of ids) this.handedOut.delete(id);
    for (const [key, record] of this.open) if (gone.has(record.id)) this.open.delete(key);
  }
}
