import type { ChangeSet, Store, StoreSnapshot, StoredRow } from './store.js';
import type { DropRecord } from './types.js';
import {
  SCAN_CACHE_LOOK_UP_ROWS as LOOK_UP_ROWS,
  SCAN_CACHE_READ_AHEAD_ROWS as READ_AHEAD_ROWS,
  SCAN_CACHE_READ_AHEAD_WINDOWS as READ_AHEAD_WINDOWS,
  SCAN_CACHE_TAIL_ROWS as TAIL_ROWS,
} from '../shared/config/buffer.js';

/**
 * Stored rows in ascending id order covering the id range [lo, hi): every stored row with an id in
 * it is here (deleted ones leave an empty slot), so a scan inside it needs no database read.
 */
class RowWindow {
  private ids: number[] = [];
  private rows: Array<StoredRow | undefined> = [];
  private start = 0;

  constructor(
    public lo: number,
    public hi: number,
  ) {}

  static of(rows: readonly StoredRow[], lo: number, hi: number): RowWindow {
    const window = new RowWindow(lo, hi);
    for (const row of rows) window.push(row);
    return window;
  }

  get size(): number {
    return this.rows.length - this.start;
  }

  covers(id: number): boolean {
    return id >= this.lo && id < this.hi;
  }

  /** Appends a row above every row held. */
  push(row: StoredRow): void {
    this.ids.push(row.id);
    this.rows.push(row);
  }

  delete(id: number): void {
    if (!this.covers(id)) return;
    const index = this.indexAbove(id - 1);
    if (this.ids[index] === id) this.rows[index] = undefined;
  }

  /** Rows with id > afterId (and < hi) ascending, appended to `out` until it holds `limit`. */
  scanUp(afterId: number, limit: number, out: StoredRow[]): void {
    for (let i = this.indexAbove(afterId); i < this.rows.length && out.length < limit; i++) {
      const row = this.rows[i];
      if (row) out.push(row);
    }
  }

  /** Rows with id < beforeId (and >= lo) descending, appended to `out` until it holds `limit`. */
  scanDown(beforeId: number, limit: number, out: StoredRow[]): void {
    for (let i = this.indexAbove(beforeId - 1) - 1; i >= this.start && out.length < limit; i--) {
      const row = this.rows[i];
      if (row) out.push(row);
    }
  }

  /** Gives up the lowest rows (and empty slots at the front) until at most `max` slots remain. */
  shrinkTo(max: number): void {
    const end = this.rows.length;
    while (this.start < end && (this.rows[this.start] === undefined || end - this.start > max)) {
      this.rows[this.start] = undefined;
      this.start++;
      this.lo = this.ids[this.start] ?? this.hi;
    }
    if (this.start > 1_024 && this.start * 2 > end) {
      this.ids = this.ids.slice(this.start);
      this.rows = this.rows.slice(this.start);
      this.start = 0;
    }
  }

  /** The first index holding an id > afterId (binary search). */
  private indexAbove(afterId: number): number {
    let low = this.start;
    let high = this.ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.ids[mid] as number) <= afterId) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/**
 * A Store wrapper that answers scans from memory where it can: the newest committed rows (the
 * tail: leasing live readings reads no database page) and a few read-ahead windows where scans of
 * the backlog left off (small leases share one database query per {@link READ_AHEAD_ROWS} rows,
 * and a stats scan from the oldest row does not throw away the lease's window).
 * Writes go to the wrapped store first and update both windows only when they succeeded.
 */
export class ScanCache implements Store {
  private tail: RowWindow;
  /** Most recently used first. */
  private ahead: RowWindow[] = [];

  constructor(
    private readonly inner: Store,
    private readonly tailRows = TAIL_ROWS,
    private readonly readAheadRows = READ_AHEAD_ROWS,
  ) {
    const next = (inner.scanDown(Number.MAX_SAFE_INTEGER, 1)[0]?.id ?? 0) + 1;
    this.tail = new RowWindow(next, next);
  }

  snapshot(): StoreSnapshot {
    return this.inner.snapshot();
  }

  write(changes: ChangeSet): void {
    this.inner.write(changes);
    for (const id of changes.deletes) {
      this.tail.delete(id);
      for (const window of this.ahead) window.delete(id);
    }
    for (const row of changes.inserts) {
      if (row.id < this.tail.hi) {
        // Not above every stored row (the engine never does this): forget what is cached rather than guess.
        this.tail = new RowWindow(this.tail.hi, this.tail.hi);
        this.ahead = [];
        continue;
      }
      if (this.tail.size === 0) this.tail.lo = row.id;
      this.tail.push(row);
      this.tail.hi = row.id + 1;
    }
    this.tail.shrinkTo(this.tailRows);
  }

  scanUp(afterId: number, limit: number): StoredRow[] {
    const found: StoredRow[] = [];
    let after = afterId;
    while (found.length < limit && after + 1 < this.tail.lo) {
      const window = this.windowAt(after + 1);
      if (!window && limit <= LOOK_UP_ROWS) return this.inner.scanUp(afterId, limit);
      if (!window) {
        this.readAhead(after, limit - found.length);
        continue;
      }
      window.scanUp(after, limit, found);
      after = window.hi - 1;
    }
    if (found.length < limit) this.tail.scanUp(after, limit, found);
    return found;
  }

  scanDown(beforeId: number, limit: number): StoredRow[] {
    const found: StoredRow[] = [];
    this.tail.scanDown(beforeId, limit, found);
    if (found.length < limit && this.tail.lo > 1) found.push(...this.inner.scanDown(Math.min(beforeId, this.tail.lo), limit - found.length));
    return found;
  }

  dropRecords(max: number): DropRecord[] {
    return this.inner.dropRecords(max);
  }

  deleteDropRecords(ids: readonly number[]): number {
    return this.inner.deleteDropRecords(ids);
  }

  reclaim(): void {
    this.inner.reclaim();
  }

  close(): void {
    this.tail = new RowWindow(this.tail.hi, this.tail.hi);
    this.ahead = [];
    this.inner.close();
  }

  /** The read-ahead window covering `id`, marked most recently used. */
  private windowAt(id: number): RowWindow | undefined {
    const index = this.ahead.findIndex((window) => window.covers(id));
    if (index < 0) return undefined;
    const window = this.ahead[index] as RowWindow;
    if (index > 0) this.ahead.unshift(...this.ahead.splice(index, 1));
    return window;
  }

  /** Reads the stored rows from afterId + 1 on, up to the tail, into a new window of at least `want` rows where there are that many. */
  private readAhead(afterId: number, want: number): void {
    const count = Math.max(want, this.readAheadRows);
    const rows = this.inner.scanUp(afterId, count);
    const below = rows.filter((row) => row.id < this.tail.lo);
    // A short read means nothing is stored above its last row, so the window reaches the tail.
    const hi = rows.length < count || below.length < rows.length ? this.tail.lo : (rows.at(-1) as StoredRow).id + 1;
    this.ahead.unshift(RowWindow.of(below, afterId + 1, hi));
    this.ahead.length = Math.min(this.ahead.length, READ_AHEAD_WINDOWS);
  }
}
