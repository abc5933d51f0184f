import type { StoreSnapshot, StoredRow } from './store.js';

/** What the store holds, counted in memory so stats and the capacity policy need no query. */
export class StoredTotals {
  depth = 0;
  bytes = 0;
  nextId = 1;
  /** When the newest row was accepted; new rows never get an earlier time. */
  lastAt = 0;

  opened(snapshot: Pick<StoreSnapshot, 'depth' | 'bytes' | 'maxId' | 'maxAt'>): void {
    this.depth = snapshot.depth;
    this.bytes = snapshot.bytes;
    this.nextId = snapshot.maxId + 1;
    this.lastAt = snapshot.maxAt;
  }

  inserted(rows: readonly StoredRow[], at: number): void {
    this.nextId += rows.length;
    this.lastAt = at;
    for (const row of rows) {
      this.depth++;
      this.bytes += row.size;
    }
  }

  removed(rows: readonly StoredRow[]): void {
    for (const row of rows) {
      this.depth--;
      this.bytes -= row.size;
    }
  }

  /** Acknowledged rows were deleted; the in-flight tracker knows only their count and size. */
  acked(count: number, bytes: number): void {
    this.depth -= count;
    this.bytes -= bytes;
  }

  /** The store was replaced by an empty one; ids and times keep counting up. */
  emptied(): void {
    this.depth = 0;
    this.bytes = 0;
  }
}
