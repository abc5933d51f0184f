/**
 * The buffer's engine. Module map of main/buffer/, in the order a reading meets it:
 *
 *   sample-check.ts    append refuses a sample it could not store and send faithfully
 *   wire.ts            the reading's wire JSON, encoded once at append (the only encoder)
 *   engine.ts          this file: seqs, the group commit (capacity, TTL, acks, drops in one write), leases, stats
 *   capacity-policy.ts which new readings fit under maxRows/maxBytes, and which old ones drop-oldest evicts
 *   drops.ts           drop counts and the drop records that explain gaps upstream
 *   store.ts           the Store interface one group commit writes through (a ChangeSet, all or nothing)
 *   scan-cache.ts      answers the store's scans from memory where it can (live readings, backlog windows)
 *   sqlite-store.ts    the Store on SQLite; memory-store.ts the same in maps, for tests
 *   storage-health.ts  storage and capacity alerts: one per episode, and "recovered"
 *   metrics.ts         the fieldgate_buffer_* metrics
 *   leases.ts          what the uplink leased and acknowledged, until a group commit deletes it
 *   sqlite-buffer.ts   opens the file: migrations.ts (schema), seq-guard.ts (seqs after a power cut),
 *                      quarantine of a corrupt file; memory-buffer.ts is the same engine without a file
 *   errors.ts          error kinds; types.ts the public types (ReadingBuffer, LeasedReading, …)
 *
 * Internal tunables (group-commit size, scan and prune chunks, cache sizes) are listed beside the
 * user-facing defaults in main/shared/config/buffer.ts.
 */
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { Reading, Sample, Values } from '../shared/reading.js';
import type { ChangeSet, Store, StoredRow } from './store.js';
import type { BufferAlert, BufferStats, DropRecord, LeasedReading, LeaseOptions, ReadingBuffer } from './types.js';
import {
  COMMIT_RETRY_MS,
  DISK_FULL_MIN_EVICTIONS,
  DISK_FULL_RETRIES,
  MAX_GROUP_COMMIT_ROWS,
  MAX_PRUNE_INTERVAL_MS,
  MIN_PRUNE_INTERVAL_MS,
  PRUNE_CHUNK,
  type BufferConfig,
} from '../shared/config/buffer.js';
import { fitAppends } from './capacity-policy.js';
import { Drops, type DropDraft } from './drops.js';
import { ReadingDroppedError, isCorruption } from './errors.js';
import { Leases } from './leases.js';
import { registerBufferMetrics, type BufferMetrics } from './metrics.js';
import { checkSample } from './sample-check.js';
import { StorageHealth } from './storage-health.js';
import { encodeWire } from './wire.js';

export interface BufferDeps {
  options: BufferConfig;
  log: Logger;
  clock: Clock;
  /** When given, the fieldgate_buffer_* metrics are registered here. */
  metrics?: Registry;
  /** Called for every alert (also logged); the composition root forwards them to the alerts topic. */
  onAlert?: (alert: BufferAlert) => void;
}

/** An append waiting for its group commit; its seq is already taken. */
interface PendingAppend {
  sample: Sample;
  seq: number;
  valuesJson: string;
  wire: string;
  size: number;
  resolve(reading: Reading): void;
  reject(error: Error): void;
}

/** Stored rows a group commit deletes with drop records: expired (TTL) or refused by the broker every time. */
interface Discard {
  reason: 'ttl' | 'refused';
  rows: readonly StoredRow[];
}

/** One group commit, worked out before it is written. */
interface CommitPlan {
  changes: ChangeSet;
  accepted: PendingAppend[];
  refused: PendingAppend[];
  evicted: StoredRow[];
  discard: Discard | undefined;
  ackedIds: number[];
  ackedBytes: number;
  draft: DropDraft;
  at: number;
}

/**
 * The buffer's logic over a synchronous Store. Every write is a group commit: the appends waiting
 * (as far as the capacity policy lets them in), the deletion of acknowledged, evicted, expired and
 * refused rows, advanced seqs and drop records, in one transaction. Subclasses open and close the store.
 */
export class BufferEngine implements ReadingBuffer {
  protected readonly log: Logger;
  private store: Store | undefined;
  private readonly leases = new Leases();
  private readonly drops: Drops;
  private readonly health: StorageHealth;
  private readonly metrics: BufferMetrics | undefined;
  private replacing = false;

  // What the store holds, counted in memory so stats and the capacity policy need no query.
  private depth = 0;
  private bytes = 0;
  private nextId = 1;
  /** When the newest row was accepted; new rows never get an earlier time. */
  private lastAt = 0;

  /** The last seq handed out per sensor. */
  private readonly lastSeqs = new Map<string, number>();
  /** Sensors whose seq advanced since the last group commit written. */
  private readonly unwrittenSeqs = new Set<string>();

  // The next group commit: written at the end of the commit window (the next event-loop turn for a
  // window of 0), at once when MAX_GROUP_COMMIT_ROWS are waiting, and COMMIT_RETRY_MS after one that failed.
  private pending: PendingAppend[] = [];
  private commitTimer: { cancel(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(protected readonly deps: BufferDeps) {
    this.log = deps.log;
    this.metrics = deps.metrics ? registerBufferMetrics(deps.metrics, this, deps.clock) : undefined;
    this.drops = new Drops(this.metrics);
    this.health = new StorageHealth({ options: deps.options, clock: deps.clock, metrics: this.metrics, raise: (alert) => this.raise(alert) });
  }

  // ---- lifecycle (for subclasses) ----

  protected get running(): boolean {
    return this.store !== undefined;
  }

  protected attach(store: Store): void {
    const snapshot = store.snapshot();
    this.store = store;
    this.depth = snapshot.depth;
    this.bytes = snapshot.bytes;
    this.nextId = snapshot.maxId + 1;
    this.lastAt = snapshot.maxAt;
    for (const [sensorId, seq] of snapshot.lastSeqs) this.lastSeqs.set(sensorId, seq);
    this.drops.opened(snapshot);
    this.startPruning();
  }

  /** Writes what is pending, stops timers and hands the store back for closing. */
  protected detach(): Store | undefined {
    clearInterval(this.pruneTimer);
    this.commit();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const store = this.store;
    this.store = undefined;
    this.leases.clear();
    return store;
  }

  /**
   * Called when storage reports corruption while running. A subclass that can quarantine the
   * damaged file returns a fresh store, already holding `lastSeqs`; the base cannot and returns undefined.
   */
  protected replaceCorruptStore(_error: unknown, _lastSeqs: ReadonlyMap<string, number>, _lost: number): Store | undefined {
    return undefined;
  }

  protected raise(alert: Omit<BufferAlert, 'ts'>): void {
    const full: BufferAlert = { ...alert, ts: this.deps.clock.now() };
    const level = alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warn' : 'info';
    this.log[level]({ alert: full.kind }, full.message);
    this.deps.onAlert?.(full);
  }

  // ---- a reading comes in ----

  append(sample: Sample): Promise<Reading> {
    if (!this.store) return Promise.reject(new Error('the buffer is not running (start it first)'));
    try {
      checkSample(sample);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const valuesJson = JSON.stringify(sample.values);
    const seq = this.nextSeq(sample.sensorId);
    const wire = encodeWire(sample.sensorId, seq, sample.ts, valuesJson);
    const size = Buffer.byteLength(wire);
    return new Promise<Reading>((resolve, reject) => {
      this.pending.push({ sample, seq, valuesJson, wire, size, resolve, reject });
      if (this.pending.length >= MAX_GROUP_COMMIT_ROWS) this.commit();
      else this.scheduleCommit();
    });
  }

  /** Like append, for sources: a reading dropped by the full policy or a storage failure is counted and alerted, not the source's error. */
  async accept(sample: Sample): Promise<void> {
    try {
      await this.append(sample);
    } catch (error) {
      if (!(error instanceof ReadingDroppedError)) throw error;
    }
  }

  /** Writes the pending group commit now instead of at the end of the window. */
  async flush(): Promise<void> {
    this.commit();
  }

  private nextSeq(sensorId: string): number {
    const seq = (this.lastSeqs.get(sensorId) ?? 0) + 1;
    this.lastSeqs.set(sensorId, seq);
    this.unwrittenSeqs.add(sensorId);
    return seq;
  }

  // ---- the group commit ----

  private scheduleCommit(): void {
    if (this.commitTimer) return;
    const window = this.deps.options.commitWindowMs;
    if (window === 0) {
      const immediate = setImmediate(() => this.commit());
      this.commitTimer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(() => this.commit(), window);
      this.commitTimer = { cancel: () => clearTimeout(timeout) };
    }
  }

  /**
   * Writes one group commit with the appends waiting and, when given, `discard`'s rows. Storage
   * failures are counted and alerted; the commit then frees space and tries again, and in the end
   * drops the appends (io-error) but still writes the deletes. Returns how many of `discard`'s rows it deleted.
   */
  private commit(discard?: Discard): number {
    this.commitTimer?.cancel();
    this.commitTimer = undefined;
    const waiting = this.pending;
    this.pending = [];
    const store = this.store;
    if (!store) {
      for (const item of waiting) item.reject(new Error('the buffer stopped before the reading was committed'));
      return 0;
    }
    if (waiting.length === 0 && !discard && this.leases.ackedCount === 0 && this.unwrittenSeqs.size === 0 && !this.drops.hasUnpersisted) return 0;
    const now = this.deps.clock.now();
    let deleted = 0;
    const write = (appends: PendingAppend[], extraEvictions = 0): boolean => {
      // Once written, `discard` is not written again; a corrupt store replaced by a fresh one no longer holds its rows.
      const rows = deleted === 0 && this.store === store ? discard : undefined;
      if (!this.tryWrite(appends, rows, now, extraEvictions)) return false;
      if (rows) deleted = rows.rows.length;
      return true;
    };
    if (write(waiting)) return deleted;
    if (this.reclaim() && write(waiting)) return deleted;
    if (this.health.failing === 'disk-full' && this.deps.options.fullPolicy === 'drop-oldest') {
      // Make room first (a write that only deletes), then store the appends.
      for (let attempt = 0; attempt < DISK_FULL_RETRIES && this.depth - this.leases.ackedCount > 0; attempt++) {
        if (!write([], Math.max(DISK_FULL_MIN_EVICTIONS, waiting.length) * 4 ** attempt)) break;
        if (write(waiting)) return deleted;
      }
    }
    this.dropAppends(waiting, now);
    // Acks, seqs and drop records still go in a write without inserts: deleting rows is how space comes back.
    if (!write([])) this.retryLater();
    return deleted;
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.commit();
    }, COMMIT_RETRY_MS);
    this.retryTimer.unref();
  }

  private reclaim(): boolean {
    try {
      this.store?.reclaim();
      return this.store !== undefined;
    } catch (error) {
      this.log.debug({ err: error }, 'could not reclaim buffer storage');
      return false;
    }
  }

  /** Plans (planning reads the store too) and writes; a storage failure is counted and alerted, and returns false. */
  private tryWrite(appends: PendingAppend[], discard: Discard | undefined, now: number, extraEvictions: number): boolean {
    const store = this.store;
    if (!store) return false;
    let plan: CommitPlan;
    try {
      plan = this.plan(store, appends, discard, now, extraEvictions);
      const started = performance.now();
      store.write(plan.changes);
      this.metrics?.commitSeconds.observe((performance.now() - started) / 1000);
    } catch (error) {
      this.storageFailed(error);
      return false;
    }
    this.applied(plan);
    return true;
  }

  /** Everything one group commit writes, worked out without changing any state. */
  private plan(store: Store, appends: PendingAppend[], discard: Discard | undefined, now: number, extraEvictions: number): CommitPlan {
    const { ids: ackedIds, bytes: ackedBytes } = this.leases.pendingDeletes();
    const discarded = discard?.rows ?? [];
    const discardedIds = discarded.map((row) => row.id);
    let discardedBytes = 0;
    for (const row of discarded) discardedBytes += row.size;
    const deleting = discard ? new Set(discardedIds) : undefined;
    const { accepted, refused, evicted } = fitAppends({
      appends,
      rows: this.depth - ackedIds.length - discarded.length,
      bytes: this.bytes - ackedBytes - discardedBytes,
      limits: this.deps.options,
      extraEvictions,
      store,
      keep: deleting ? { has: (id) => this.leases.has(id) || deleting.has(id) } : this.leases,
    });
    const at = Math.max(now, this.lastAt);
    const inserts = accepted.map(
      (item, index): StoredRow => ({
        id: this.nextId + index,
        sensorId: item.sample.sensorId,
        seq: item.seq,
        ts: item.sample.ts,
        at,
        size: item.size,
        valuesJson: item.valuesJson,
        wire: item.wire,
      }),
    );
    const draft = this.drops.draft(
      [
        ...evicted.map((row) => ({ sensorId: row.sensorId, seq: row.seq, reason: 'capacity' as const })),
        ...refused.map((item) => ({ sensorId: item.sample.sensorId, seq: item.seq, reason: 'capacity' as const })),
        ...(discard ? discard.rows.map((row) => ({ sensorId: row.sensorId, seq: row.seq, reason: discard.reason })) : []),
      ],
      now,
    );
    const changes: ChangeSet = {
      inserts,
      deletes: [...ackedIds, ...discardedIds, ...evicted.map((row) => row.id)],
      seqs: [...this.unwrittenSeqs].map((sensorId) => [sensorId, this.lastSeqs.get(sensorId) as number]),
      dropRecords: this.drops.toWrite(draft),
    };
    return { changes, accepted, refused, evicted, discard, ackedIds, ackedBytes, draft, at };
  }

  private applied(plan: CommitPlan): void {
    this.leases.deleted(plan.ackedIds);
    this.depth -= plan.ackedIds.length;
    this.bytes -= plan.ackedBytes;
    this.removed(plan.evicted);
    const { inserts } = plan.changes;
    this.nextId += inserts.length;
    this.lastAt = plan.at;
    for (const row of inserts) {
      this.depth++;
      this.bytes += row.size;
    }
    this.unwrittenSeqs.clear();
    this.drops.committed(plan.draft);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (plan.discard) {
      this.removed(plan.discard.rows);
      this.leases.forget(plan.discard.rows.map((row) => row.id));
      this.drops.count(plan.discard.reason, plan.discard.rows.length);
    }
    if (inserts.length > 0) this.health.stored(plan.at);
    const capacityDrops = plan.evicted.length + plan.refused.length;
    if (capacityDrops > 0) this.drops.count('capacity', capacityDrops);
    this.health.committed(capacityDrops, this.depth, this.bytes);
    this.metrics?.appended.inc(plan.accepted.length);
    for (const item of plan.accepted) item.resolve({ sensorId: item.sample.sensorId, ts: item.sample.ts, values: item.sample.values, seq: item.seq });
    for (const item of plan.refused) item.reject(new ReadingDroppedError(item.sample.sensorId, item.seq, 'capacity'));
  }

  private removed(rows: readonly StoredRow[]): void {
    for (const row of rows) {
      this.depth--;
      this.bytes -= row.size;
    }
  }

  /** Storage refused the appends: they are lost, their seqs stay used and drop records explain the gap once storage works again. */
  private dropAppends(appends: PendingAppend[], now: number): void {
    if (appends.length === 0) return;
    this.drops.lostUnwritten(
      appends.map((item) => ({ sensorId: item.sample.sensorId, seq: item.seq, reason: 'io-error' as const })),
      now,
    );
    for (const item of appends) item.reject(new ReadingDroppedError(item.sample.sensorId, item.seq, 'io-error'));
  }

  // ---- the uplink leases, acks and sets aside ----

  lease(options: LeaseOptions): LeasedReading[] {
    if (!this.store || options.max <= 0) return [];
    let rows: StoredRow[];
    try {
      rows = this.leases.lease(this.store, options);
    } catch (error) {
      this.storageFailed(error);
      return [];
    }
    return rows.map((row) => new LeasedRow(row));
  }

  ack(ids: readonly number[]): void {
    this.leases.ack(ids);
    if (this.leases.ackedCount >= MAX_GROUP_COMMIT_ROWS) this.commit();
    else if (this.leases.ackedCount > 0) this.scheduleCommit();
  }

  nack(ids: readonly number[]): void {
    this.leases.nack(ids);
  }

  dropRefused(ids: readonly number[]): number {
    const store = this.store;
    const leased = ids.filter((id) => this.leases.has(id) && !this.leases.isAcked(id));
    if (!store || leased.length === 0) return 0;
    let rows: StoredRow[];
    try {
      rows = leased
        .map((id) => store.scanUp(id - 1, 1)[0])
        .filter((row): row is StoredRow => row !== undefined && leased.includes(row.id))
        .sort((a, b) => a.id - b.id);
    } catch (error) {
      this.storageFailed(error);
      rows = [];
    }
    const dropped = rows.length === 0 ? 0 : this.commit({ reason: 'refused', rows });
    if (dropped === 0) this.leases.nack(leased);
    return dropped;
  }

  // ---- TTL ----

  prune(now: number): number {
    return this.pruneUpTo(now, Number.POSITIVE_INFINITY);
  }

  /** Prunes a tenth of the TTL apart, from every second to every minute. */
  private startPruning(): void {
    const ttl = this.ttlMs();
    if (ttl === undefined) return;
    this.pruneTimer = setInterval(() => this.pruneInSteps(), Math.min(MAX_PRUNE_INTERVAL_MS, Math.max(MIN_PRUNE_INTERVAL_MS, ttl / 10)));
    this.pruneTimer.unref();
  }

  /** One chunk per event-loop turn, so a large expiry does not stall the gateway. */
  private pruneInSteps(): void {
    if (this.pruneUpTo(this.deps.clock.now(), PRUNE_CHUNK) >= PRUNE_CHUNK) setImmediate(() => this.pruneInSteps());
  }

  /** Drops readings accepted longer than the TTL ago and not in flight (reason `ttl`), a chunk per group commit. */
  private pruneUpTo(now: number, limit: number): number {
    const ttl = this.ttlMs();
    const store = this.store;
    if (ttl === undefined || !store) return 0;
    const cutoff = now - ttl;
    let pruned = 0;
    let after = 0;
    while (pruned < limit && this.store === store) {
      let rows: StoredRow[];
      try {
        rows = store.scanUp(after, PRUNE_CHUNK);
      } catch (error) {
        this.storageFailed(error);
        break;
      }
      const expired: StoredRow[] = [];
      let reachedFresh = false;
      for (const row of rows) {
        after = row.id;
        if (row.at >= cutoff) {
          reachedFresh = true;
          break;
        }
        if (!this.leases.has(row.id)) expired.push(row);
      }
      if (expired.length > 0) {
        const deleted = this.commit({ reason: 'ttl', rows: expired });
        if (deleted === 0) break;
        pruned += deleted;
      }
      if (reachedFresh || rows.length < PRUNE_CHUNK) break;
    }
    if (pruned > 0) this.log.warn({ pruned, ttlHours: this.deps.options.ttlHours }, 'dropped readings older than the TTL');
    return pruned;
  }

  private ttlMs(): number | undefined {
    const hours = this.deps.options.ttlHours;
    return hours === undefined ? undefined : hours * 3_600_000;
  }

  // ---- stats and drop records ----

  stats(now: number): BufferStats {
    return {
      depth: this.depth,
      bytes: this.bytes,
      inFlight: this.leases.leasedCount,
      oldestUnsentAgeMs: this.depth !== 0 ? this.oldestUnsentAgeMs(now) : null,
      drops: this.drops.byReason,
      pendingDropRecords: this.drops.pendingRecordCount,
    };
  }

  /** How long the oldest row not yet acknowledged has waited; null when there is none or storage cannot tell. */
  private oldestUnsentAgeMs(now: number): number | null {
    if (!this.store) return null;
    try {
      const oldest = this.leases.oldestUnacked(this.store);
      return oldest ? Math.max(0, now - oldest.at) : null;
    } catch {
      return null;
    }
  }

  dropRecords(max: number): DropRecord[] {
    if (!this.store || max <= 0) return [];
    try {
      const records = this.store.dropRecords(max);
      this.drops.handOut(records);
      return records;
    } catch (error) {
      this.storageFailed(error);
      return [];
    }
  }

  ackDropRecords(ids: readonly number[]): void {
    if (!this.store || ids.length === 0) return;
    try {
      this.drops.acknowledged(ids, this.store.deleteDropRecords(ids));
    } catch (error) {
      this.storageFailed(error);
    }
  }

  // ---- storage failures ----

  private storageFailed(error: unknown): void {
    if (isCorruption(error) && this.replaceStore(error)) return;
    this.health.failed(error);
  }

  /** Swaps a corrupt store for a fresh one; the readings in the damaged file count as lost (io-error). */
  private replaceStore(error: unknown): boolean {
    if (this.replacing || !this.store) return false;
    const lost = this.depth;
    let replacement: Store | undefined;
    this.replacing = true;
    try {
      replacement = this.replaceCorruptStore(error, this.lastSeqs, lost);
    } finally {
      this.replacing = false;
    }
    if (!replacement) return false;
    this.store = replacement;
    // Ids and times keep counting up.
    this.depth = 0;
    this.bytes = 0;
    this.leases.clear();
    this.drops.storeReplaced();
    this.metrics?.storageErrors.inc({ kind: 'io-error' });
    if (lost > 0) this.drops.count('io-error', lost);
    return true;
  }
}

/**
 * A leased reading. The uplink sends `wire` and never looks at `values`, so they are parsed only
 * when read (a large drain would otherwise build and collect an object tree per reading).
 */
class LeasedRow implements LeasedReading {
  readonly id: number;
  readonly sensorId: string;
  readonly seq: number;
  readonly ts: number;
  readonly wire: string;
  readonly #valuesJson: string;
  #values: Values | undefined;

  constructor(row: StoredRow) {
    this.id = row.id;
    this.sensorId = row.sensorId;
    this.seq = row.seq;
    this.ts = row.ts;
    this.wire = row.wire ?? encodeWire(row.sensorId, row.seq, row.ts, row.valuesJson);
    this.#valuesJson = row.valuesJson;
  }

  get values(): Values {
    return (this.#values ??= JSON.parse(this.#valuesJson) as Values);
  }
}
