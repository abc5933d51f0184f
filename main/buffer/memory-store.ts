import type { ChangeSet, Store, StoreSnapshot, StoredRow } from './store.js';
import type { DropRecord } from './types.js';

/** A Store in plain maps, for unit tests; ids only grow, so a Map's insertion order is id order. */
export class MemoryStore implements Store {
  private readonly rows = new Map<number, StoredRow>();
  private readonly seqs = new Map<string, number>();
  private readonly drops = new Map<number, DropRecord>();

  snapshot(): StoreSnapshot {
    let bytes = 0;
    let maxId = 0;
    let maxAt = 0;
    for (const row of this.rows.values()) {
      bytes += row.size;
      maxId = Math.max(maxId, row.id);
      maxAt = Math.max(maxAt, row.at);
    }
    return {
      depth: this.rows.size,
      bytes,
      maxId,
      maxAt,
      lastSeqs: new Map(this.seqs),
      dropRecordCount: this.drops.size,
      maxDropRecordId: Math.max(0, ...this.drops.keys()),
    };
  }

  write(changes: ChangeSet): void {
    for (const id of changes.deletes) this.rows.delete(id);
    for (const row of changes.inserts) this.rows.set(row.id, { ...row });
    for (const [sensorId, seq] of changes.seqs) this.seqs.set(sensorId, Math.max(seq, this.seqs.get(sensorId) ?? 0));
    for (const record of changes.dropRecords) this.drops.set(record.id, { ...record });
  }

  scanUp(afterId: number, limit: number): StoredRow[] {
    const found: StoredRow[] = [];
    for (const row of this.rows.values()) {
      if (found.length >= limit) break;
      if (row.id > afterId) found.push(row);
    }
    return found;
  }

  scanDown(beforeId: number, limit: number): StoredRow[] {
    return [...this.rows.values()]
      .filter((row) => row.id < beforeId)
      .reverse()
      .slice(0, limit);
  }

  dropRecords(max: number): DropRecord[] {
    return [...this.drops.values()].slice(0, max).map((record) => ({ ...record }));
  }

  deleteDropRecords(ids: readonly number[]): number {
    let deleted = 0;
    for (const id of ids) if (this.drops.delete(id)) deleted++;
    return deleted;
  }

  reclaim(): void {}

  close(): void {}
}
