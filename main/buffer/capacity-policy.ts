import type { Store, StoredRow } from './store.js';
import { MAX_CATCH_UP_EVICTIONS, SCAN_CHUNK, type BufferConfig } from '../shared/config/buffer.js';

export interface CapacityInput<T extends { size: number }> {
  batch: readonly T[];
  /** Rows and bytes held once the acknowledged rows are deleted. */
  rows: number;
  bytes: number;
  limits: Pick<BufferConfig, 'maxRows' | 'maxBytes' | 'fullPolicy'>;
  /** Rows to evict even when the batch fits (drop-oldest making room on a full disk). */
  extraEvictions: number;
  store: Store;
  inFlight: { has(id: number): boolean };
}

export interface CapacityOutcome<T> {
  accepted: T[];
  /** Batch items dropped: the newest with drop-newest, or with drop-oldest when every stored row is in flight. */
  refused: T[];
  /** Stored rows dropped to make room (drop-oldest). */
  evicted: StoredRow[];
}

/** Applies maxRows, maxBytes and the full policy to a batch of new readings. */
export function fitBatch<T extends { size: number }>(input: CapacityInput<T>): CapacityOutcome<T> {
  const { batch, limits, extraEvictions } = input;
  let { rows, bytes } = input;
  const refused: T[] = [];
  if (limits.fullPolicy === 'drop-newest') {
    const accepted: T[] = [];
    for (const item of batch) {
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
  let batchBytes = 0;
  for (const item of batch) batchBytes += item.size;
  const needRows = Math.max(rows + batch.length - limits.maxRows, extraEvictions);
  const needBytes = bytes + batchBytes - limits.maxBytes;
  // Bounded, so a lowered maxRows is reached over several commits instead of one huge one.
  const quota = batch.length + extraEvictions + MAX_CATCH_UP_EVICTIONS;
  let evicted: StoredRow[] = [];
  let exhausted = false;
  if (needRows > 0 || needBytes > 0) ({ rows: evicted, exhausted } = oldestEvictable(input.store, input.inFlight, needRows, needBytes, quota));
  for (const row of evicted) {
    rows--;
    bytes -= row.size;
  }
  const accepted = batch.slice();
  // Only when nothing more can be evicted (the rest is in flight) do new readings give way.
  while (exhausted && accepted.length > 0 && (rows + accepted.length > limits.maxRows || bytes + batchBytes > limits.maxBytes)) {
    const oldest = accepted.shift() as T;
    batchBytes -= oldest.size;
    refused.push(oldest);
  }
  return { accepted, refused, evicted };
}

/** Oldest rows not in flight, until `needRows` rows and `needBytes` bytes are covered or `quota` rows are chosen; `exhausted` when none were left. */
function oldestEvictable(
  store: Store,
  inFlight: CapacityInput<never>['inFlight'],
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
      if (inFlight.has(row.id)) continue;
      chosen.push(row);
      bytes += row.size;
      if ((chosen.length >= needRows && bytes >= needBytes) || chosen.length >= quota) return { rows: chosen, exhausted: false };
    }
    if (rows.length < SCAN_CHUNK) return { rows: chosen, exhausted: true };
  }
}
