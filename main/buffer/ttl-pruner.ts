import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import type { BufferConfig } from '../shared/config/buffer.js';
import type { Store, StoredRow } from './store.js';
import type { DropAccounts } from './drop-accounts.js';
import type { InFlight } from './in-flight.js';
import type { StoredTotals } from './stored-totals.js';

/** Rows read at once; the timer's prune handles one chunk per event-loop turn. */
const PRUNE_CHUNK = 4_096;
const MAX_PRUNE_INTERVAL_MS = 60_000;

export interface TtlPrunerDeps {
  options: Pick<BufferConfig, 'ttlHours'>;
  log: Logger;
  clock: Clock;
  /** The current store: it changes when a corrupt one is replaced. */
  store(): Store | undefined;
  inFlight: InFlight;
  drops: DropAccounts;
  totals: StoredTotals;
  storageFailed(error: unknown): void;
}

/** Drops readings older than the TTL (reason `ttl`), on demand and from a timer. */
export class TtlPruner {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: TtlPrunerDeps) {}

  /** Prunes a tenth of the TTL apart, from every second to every minute. */
  start(): void {
    const ttl = this.ttlMs();
    if (ttl !== undefined) {
      this.timer = setInterval(() => this.pruneInSteps(), Math.min(MAX_PRUNE_INTERVAL_MS, Math.max(1_000, ttl / 10)));
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  prune(now: number, limit = Number.POSITIVE_INFINITY): number {
    const ttl = this.ttlMs();
    const store = this.deps.store();
    if (ttl === undefined || !store) return 0;
    const { drops, totals, inFlight } = this.deps;
    const cutoff = now - ttl;
    let pruned = 0;
    let after = 0;
    try {
      while (pruned < limit) {
        const rows = store.scanUp(after, PRUNE_CHUNK);
        const expired: StoredRow[] = [];
        let reachedFresh = false;
        for (const row of rows) {
          after = row.id;
          if (row.at >= cutoff) {
            reachedFresh = true;
            break;
          }
          if (!inFlight.has(row.id)) expired.push(row);
        }
        if (expired.length > 0) {
          const draft = drops.draft(
            expired.map((row) => ({ sensorId: row.sensorId, seq: row.seq, reason: 'ttl' as const })),
            now,
          );
          store.write({ inserts: [], deletes: expired.map((row) => row.id), seqs: [], dropRecords: draft.records });
          drops.written(draft);
          totals.removed(expired);
          drops.count('ttl', expired.length);
          pruned += expired.length;
        }
        if (reachedFresh || rows.length < PRUNE_CHUNK) break;
      }
    } catch (error) {
      this.deps.storageFailed(error);
    }
    if (pruned > 0) this.deps.log.warn({ pruned, ttlHours: this.deps.options.ttlHours }, 'dropped readings older than the TTL');
    return pruned;
  }

  /** One chunk per event-loop turn, so a large expiry does not stall the gateway. */
  private pruneInSteps(): void {
    if (this.prune(this.deps.clock.now(), PRUNE_CHUNK) >= PRUNE_CHUNK) setImmediate(() => this.pruneInSteps());
  }

  private ttlMs(): number | undefined {
    const hours = this.deps.options.ttlHours;
    return hours === undefined ? undefined : hours * 3_600_000;
  }
}
