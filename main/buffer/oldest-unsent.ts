import { SCAN_CHUNK, type Store, type StoredRow } from './store.js';
import type { InFlight } from './in-flight.js';

/** How long the oldest row not yet acknowledged has waited; null when there is none or storage cannot tell. */
export function oldestUnsentAgeMs(store: Store, inFlight: InFlight, now: number): number | null {
  try {
    // Usually the first row looked at: the lowest leased one, or the next to lease.
    let after = inFlight.lowestUnacked() - 1;
    for (let chunk = 1; ; chunk = Math.min(chunk * 8, SCAN_CHUNK)) {
      const rows = store.scanUp(after, chunk);
      const oldest = rows.find((row) => !inFlight.isAcked(row.id));
      if (oldest) return Math.max(0, now - oldest.at);
      if (rows.length < chunk) return null;
      after = (rows.at(-1) as StoredRow).id;
    }
  } catch {
    return null;
  }
}
