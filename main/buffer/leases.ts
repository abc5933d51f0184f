import type { Store, StoredRow } from './store.js';
import type { LeaseOptions } from './types.js';
import { LEASE_READ_SLACK, SCAN_CHUNK } from '../shared/config/buffer.js';

/**
 * The rows in flight: leased to the uplink, or acknowledged and waiting for the next group commit
 * to delete them. Kept in memory only, so after a crash every unacknowledged row is sent again.
 */
export class Leases {
  /** id → wire size */
  private readonly leased = new Map<number, number>();
  private readonly acked = new Map<number, number>();
  /** Every row not in flight has an id >= scanFrom, so fifo leases need not rescan in-flight rows. */
  private scanFrom = 0;

  get leasedCount(): number {
    return this.leased.size;
  }

  get ackedCount(): number {
    return this.acked.size;
  }

  has(id: number): boolean {
    return this.leased.has(id) || this.acked.has(id);
  }

  isAcked(id: number): boolean {
    return this.acked.has(id);
  }

  /** The oldest stored row not acknowledged yet (leased or waiting), or undefined when there is none. */
  oldestUnacked(store: Store): StoredRow | undefined {
    // Usually the first row looked at: the lowest leased one, or the next to lease.
    let after = this.lowestUnacked() - 1;
    for (let chunk = 1; ; chunk = Math.min(chunk * 8, SCAN_CHUNK)) {
      const rows = store.scanUp(after, chunk);
      const oldest = rows.find((row) => !this.acked.has(row.id));
      if (oldest || rows.length < chunk) return oldest;
      after = (rows.at(-1) as StoredRow).id;
    }
  }

  /** Acknowledged rows to delete in the next group commit, with their total size. */
  pendingDeletes(): { ids: number[]; bytes: number } {
    let bytes = 0;
    for (const size of this.acked.values()) bytes += size;
    return { ids: [...this.acked.keys()], bytes };
  }

  deleted(ids: readonly number[]): void {
    for (const id of ids) this.acked.delete(id);
  }

  /** Oldest first; or newest first for live-first, returned in ascending order. Marks the rows leased. */
  lease(store: Store, options: LeaseOptions): StoredRow[] {
    const rows = options.order === 'live-first' ? this.newest(store, options) : this.oldest(store, options);
    for (const row of rows) this.leased.set(row.id, row.size);
    return rows;
  }

  ack(ids: readonly number[]): void {
    for (const id of ids) {
      const size = this.leased.get(id);
      if (size === undefined) continue;
      this.leased.delete(id);
      this.acked.set(id, size);
    }
  }

  nack(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.leased.delete(id) && id < this.scanFrom) this.scanFrom = id;
    }
  }

  /** Leased rows deleted without an ack (set aside): no longer in flight. */
  forget(ids: readonly number[]): void {
    for (const id of ids) this.leased.delete(id);
  }

  /** Forgets the leases (the store closed); acknowledged rows not yet deleted will be sent again. */
  clear(): void {
    this.leased.clear();
    this.acked.clear();
    this.scanFrom = 0;
  }

  /** Every stored row below this id is acknowledged (the rest are leased or waiting at or above scanFrom). */
  private lowestUnacked(): number {
    let lowest = this.scanFrom;
    for (const id of this.leased.keys()) if (id < lowest) lowest = id;
    return lowest;
  }

  private oldest(store: Store, options: LeaseOptions): StoredRow[] {
    const lease: Lease = { rows: [], bytes: 0 };
    let after = this.scanFrom - 1;
    for (;;) {
      const rows = store.scanUp(after, Math.min(SCAN_CHUNK, options.max - lease.rows.length + LEASE_READ_SLACK));
      if (rows.length === 0) {
        this.scanFrom = after + 1;
        return lease.rows;
      }
      for (const row of rows) {
        after = row.id;
        const offered = this.offer(lease, row, options);
        if (offered === 'over') {
          this.scanFrom = row.id;
          return lease.rows;
        }
        if (offered === 'full') {
          this.scanFrom = row.id + 1;
          return lease.rows;
        }
      }
    }
  }

  private newest(store: Store, options: LeaseOptions): StoredRow[] {
    const lease: Lease = { rows: [], bytes: 0 };
    let before = Number.MAX_SAFE_INTEGER;
    scan: for (;;) {
      const rows = store.scanDown(before, SCAN_CHUNK);
      for (const row of rows) {
        before = row.id;
        if (row.id < this.scanFrom) break scan;
        const offered = this.offer(lease, row, options);
        if (offered === 'over' || offered === 'full') break scan;
      }
      if (rows.length < SCAN_CHUNK) break;
    }
    return lease.rows.reverse();
  }

  /**
   * Adds `row` to the lease being built unless it is in flight. `over`: it would take the lease past
   * maxBytes and was not added (a lease always takes at least one reading, so one larger than
   * maxBytes cannot block the queue); `full`: the lease reached max with it.
   */
  private offer(lease: Lease, row: StoredRow, options: LeaseOptions): 'skipped' | 'added' | 'over' | 'full' {
    if (this.has(row.id)) return 'skipped';
    if (options.maxBytes !== undefined && lease.rows.length > 0 && lease.bytes + row.size > options.maxBytes) return 'over';
    lease.rows.push(row);
    lease.bytes += row.size;
    return lease.rows.length >= options.max ? 'full' : 'added';
  }
}

/** A lease being built. */
interface Lease {
  rows: StoredRow[];
  bytes: number;
}
