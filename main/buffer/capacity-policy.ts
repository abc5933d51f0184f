import type { Store, StoredRow } from './store.js';
import { MAX_CATCH_UP_EVICTIONS, SCAN_CHUNK, type BufferConfig } from '../shared/config/buffer.js';

export interface CapacityInput<T extends { size: number }> {
  /** The new readings of one group commit, oldest first. */
  appends: readonly T[];
  /** Rows and bytes held once the acknowledged rows are deleted. */
  rows: number;
  bytes: number;
  limits: Pick<BufferConfig, 'maxRows' | 'maxBytes' | 'fullPolicy'>;
  /** Rows to evict even when the new readings fit (drop-oldest making room on a full disk). */
  extraEvictions: number;
  store: Store;
  /** Rows never evicted: those in flight, and those the group commit deletes anyway. */
  keep: { has(id: number): boolean };
}

export interface CapacityOutcome<T> {
  accepted: T[];
  /** New readings dropped: the newest with drop-newest, or with drop-oldest when every stored row is in flight. */
  refused: T[];
  /** Stored rows dropped to make room (drop-oldest). */
  evicted: StoredRow[];
}

/** Applies maxRows, maxBytes and the full policy to the new readings of a group commit. */
export function fitAppends<T extends { size: number }>(input: CapacityInput<T>): CapacityOutcome<T> {
  const { appends, limits, extraEvictions } = input;
  let { rows, bytes } = input;
  const refused: T[] = [];
  if (limits.fullPolicy === 'drop-newest') {
    const accepted: T[] = [];
    for (const item of appends) {
      if (rows + 1 > limits.maxRows || bytes + item.size > limits.maxBytes) {
        refused.push(item);
      } else {
        accepted.push(item);
        rows++;
        bytes += item.size;
      }
    }
    return { accepted, refused, evicted: [] };
  }
  let appendBytes = 0;
  for (const item of appends) appendBytes += item.size;
  const needRows = Math.max(rows + appends.length - limits.maxRows, extraEvictions);
  const needBytes = bytes + appendBytes - limits.maxBytes;
  // Bounded, so a lowered maxRows is reached over several commits instead of one huge one.
  const quota = appends.length + extraEvictions + MAX_CATCH_UP_EVICTIONS;
  let evicted: StoredRow[] = [];
  let exhausted = false;
  if (needRows > 0 || needBytes > 0) ({ rows: evicted, exhausted } = oldestEvictable(input.store, input.keep, needRows, needBytes, quota));
  for (const row of evicted) {
    rows--;
    bytes -= row.size;
  }
  const accepted = appends.slice();
  // Only when nothing more can be evicted (the rest is in flight) do new readings give way.
  while (exhausted && accepted.length > 0 && (rows + accepted.length > limits.maxRows || bytes + appendBytes > limits.maxBytes)) {
    const oldest = accepted.shift() as T;
    appendBytes -= oldest.size;
    refused.push(oldest);
  }
  return { accepted, refused, evicted };
}

/** Oldest rows not kept, until `needRows` rows and `needBytes` bytes are covered or `quota` rows are chosen; `exhausted` when none were left. */
function oldestEvictable(
  store: Store,
  keep: CapacityInput<never>['keep'],
  needRows: number,
  needBytes: number,
  quota: number,
): { rows: StoredRow[]; exhausted: boolean } {
  const chosen: StoredRow[] = [];
  let bytes = 0;
  let after = 0;
  for (;;) {
    const rows = store.scanUp(after, SCAN_CHUNK);
    for (const row of rows) {
      after = row.id;
      if (keep.has(row.id)) continue;
      chosen.push(row);
      bytes += row.size;
      if ((chosen.length >= needRows && bytes >= needBytes) || chosen.length >= quota) return { rows: chosen, exhausted: false };
    }
    if (rows.length < SCAN_CHUNK) return { rows: chosen, exhausted: true };
  }
}
