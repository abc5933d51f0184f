import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { BufferConfig } from '../shared/config/buffer.js';
import type { Reading, Sample, Values } from '../shared/reading.js';
import type { ChangeSet, Store, StoredRow } from './store.js';
import type { BufferAlert, BufferStats, DropReason, DropRecord, LeasedReading, LeaseOptions, ReadingBuffer } from './types.js';
import { DropLedger, type Drop, type DropDraft } from './drop-ledger.js';
import { InFlight } from './in-flight.js';
import { ReadingDroppedError, classifyStorageError, errorMessage, isCorruption, type StorageFailure } from './errors.js';
import { registerBufferMetrics, type BufferMetrics } from './metrics.js';
import { checkSample } from './sample-check.js';
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

interface PendingAppend {
  sample: Sample;
  seq: number;
  valuesJson: string;
  wire: string;
  size: number;
  resolve(reading: Reading): void;
  reject(error: Error): void;
}

/** One group commit, worked out before it is written. */
interface CommitPlan {
  changes: ChangeSet;
  accepted: PendingAppend[];
  refused: PendingAppend[];
  evicted: StoredRow[];
  ackedIds: number[];
  ackedBytes: number;
  draft: DropDraft;
  at: number;
}

/** A group commit is written at once when this many appends are waiting, without waiting for the window. */
const MAX_BATCH = 10_000;
const RETRY_MS = 1_000;
/** On disk full with drop-oldest: evict more and retry this many times before dropping the batch. */
const DISK_FULL_RETRIES = 3;
const SCAN_CHUNK = 1_024;
/** Rows a commit may evict beyond its own batch, to get back under a lowered capacity. */
const MAX_CATCH_UP_EVICTIONS = 10_000;
const PRUNE_CHUNK = 4_096;
const MAX_PRUNE_INTERVAL_MS = 60_000;
/** Storage counts as recovered after this long without a failed write (no alert flapping while drop-oldest works at the limit). */
const RECOVERY_QUIET_MS = 30_000;

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

const noDrops = (): Record<DropReason, number> => ({ capacity: 0, ttl: 0, 'io-error': 0 });

/**
 * The buffer's logic over a synchronous Store: group commit, per-sensor seq, leases, capacity
 * policy, TTL, drop records and storage-failure handling. Subclasses open and close the store.
 */
export class BufferEngine implements ReadingBuffer {
  protected readonly log: Logger;
  private store: Store | undefined;
  private depth = 0;
  private bytes = 0;
  private nextId = 1;
  private lastAt = 0;
  private readonly lastSeqs = new Map<string, number>();
  /** Sensors whose seq advanced since the last successful write. */
  private readonly dirtySeqs = new Set<string>();
  private pending: PendingAppend[] = [];
  private readonly inFlight = new InFlight();
  private ledger = new DropLedger(1);
  /** Drop records of readings lost while storage failed, persisted by the next successful write. */
  private readonly unpersistedDrops = new Map<number, DropRecord>();
  private dropRecordCount = 0;
  private readonly drops = noDrops();
  private failing: StorageFailure | undefined;
  private replacing = false;
  private lastFailureAt = 0;
  private capacityAlerted = false;
  private commitTimer: { cancel(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly metrics: BufferMetrics | undefined;

  constructor(protected readonly deps: BufferDeps) {
    this.log = deps.log;
    this.metrics = deps.metrics ? registerBufferMetrics(deps.metrics, this, deps.clock) : undefined;
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
    this.dropRecordCount = snapshot.dropRecordCount;
    this.ledger = new DropLedger(snapshot.maxDropRecordId + 1);
    const ttlMs = this.ttlMs();
    if (ttlMs !== undefined) {
      this.pruneTimer = setInterval(() => this.pruneInSteps(), Math.min(MAX_PRUNE_INTERVAL_MS, Math.max(1_000, ttlMs / 10)));
      this.pruneTimer.unref();
    }
  }

  /** Writes what is pending, stops timers and hands the store back for closing. */
  protected detach(): Store | undefined {
    clearInterval(this.pruneTimer);
    this.commit();
    clearTimeout(this.retryTimer);
    const store = this.store;
    this.store = undefined;
    this.inFlight.clear();
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

  // ---- ReadingBuffer ----

  append(sample: Sample): Promise<Reading> {
    if (!this.store) return Promise.reject(new Error('the buffer is not running (start it first)'));
    try {
      checkSample(sample);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const valuesJson = JSON.stringify(sample.values);
    const seq = (this.lastSeqs.get(sample.sensorId) ?? 0) + 1;
    this.lastSeqs.set(sample.sensorId, seq);
    this.dirtySeqs.add(sample.sensorId);
    const wire = encodeWire(sample.sensorId, seq, sample.ts, valuesJson);
    const size = Buffer.byteLength(wire);
    return new Promise<Reading>((resolve, reject) => {
      this.pending.push({ sample, seq, valuesJson, wire, size, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.commit();
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

  lease(options: LeaseOptions): LeasedReading[] {
    if (!this.store || options.max <= 0) return [];
    let rows: StoredRow[];
    try {
      rows = this.inFlight.lease(this.store, options);
    } catch (error) {
      this.storageFailed(error);
      return [];
    }
    return rows.map((row) => new LeasedRow(row));
  }

  ack(ids: readonly number[]): void {
    this.inFlight.ack(ids);
    if (this.inFlight.ackedCount >= MAX_BATCH) this.commit();
    else if (this.inFlight.ackedCount > 0) this.scheduleCommit();
  }

  nack(ids: readonly number[]): void {
    this.inFlight.nack(ids);
  }

  prune(now: number): number {
    return this.pruneUpTo(now, Number.POSITIVE_INFINITY);
  }

  /** The timer's prune: one chunk per event-loop turn, so a large expiry does not stall the gateway. */
  private pruneInSteps(): void {
    if (this.pruneUpTo(this.deps.clock.now(), PRUNE_CHUNK) >= PRUNE_CHUNK) setImmediate(() => this.pruneInSteps());
  }

  private pruneUpTo(now: number, limit: number): number {
    const ttlMs = this.ttlMs();
    const store = this.store;
    if (ttlMs === undefined || !store) return 0;
    const cutoff = now - ttlMs;
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
          if (!this.inFlight.has(row.id)) expired.push(row);
        }
        if (expired.length > 0) {
          const draft = this.ledger.draft(
            expired.map((row) => ({ sensorId: row.sensorId, seq: row.seq, reason: 'ttl' as const })),
            now,
          );
          store.write({ inserts: [], deletes: expired.map((row) => row.id), seqs: [], dropRecords: draft.records });
          this.ledger.apply(draft);
          this.dropRecordCount += draft.created;
          this.removeRows(expired);
          this.countDrops('ttl', expired.length);
          pruned += expired.length;
        }
        if (reachedFresh || rows.length < PRUNE_CHUNK) break;
      }
    } catch (error) {
      this.storageFailed(error);
    }
    if (pruned > 0) this.log.warn({ pruned, ttlHours: this.deps.options.ttlHours }, 'dropped readings older than the TTL');
    return pruned;
  }

  stats(now: number): BufferStats {
    return {
      depth: this.depth,
      bytes: this.bytes,
      inFlight: this.inFlight.leasedCount,
      oldestUnsentAgeMs: this.oldestAgeMs(now),
      drops: { ...this.drops },
      pendingDropRecords: this.dropRecordCount,
    };
  }

  dropRecords(max: number): DropRecord[] {
    if (!this.store || max <= 0) return [];
    try {
      const records = this.store.dropRecords(max);
      this.ledger.handOut(records.map((record) => record.id));
      return records;
    } catch (error) {
      this.storageFailed(error);
      return [];
    }
  }

  ackDropRecords(ids: readonly number[]): void {
    if (!this.store || ids.length === 0) return;
    try {
      this.dropRecordCount -= this.store.deleteDropRecords(ids);
      this.ledger.acknowledged(ids);
    } catch (error) {
      this.storageFailed(error);
    }
  }

  /** Writes the pending group commit now instead of at the end of the window. */
  async flush(): Promise<void> {
    this.commit();
  }

  // ---- group commit ----

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

  private commit(): void {
    this.commitTimer?.cancel();
    this.commitTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (!this.store) {
      for (const item of batch) item.reject(new Error('the buffer stopped before the reading was committed'));
      return;
    }
    if (batch.length === 0 && this.inFlight.ackedCount === 0 && this.dirtySeqs.size === 0 && this.unpersistedDrops.size === 0) return;
    const now = this.deps.clock.now();
    if (this.tryWrite((current) => this.plan(current, batch, now, 0))) return;
    if (this.reclaim() && this.tryWrite((current) => this.plan(current, batch, now, 0))) return;
    if (this.failing === 'disk-full' && this.deps.options.fullPolicy === 'drop-oldest') {
      // Make room first (a write that only deletes), then store the batch.
      for (let attempt = 0; attempt < DISK_FULL_RETRIES && this.depth - this.inFlight.ackedCount > 0; attempt++) {
        if (!this.tryWrite((current) => this.plan(current, [], now, Math.max(64, batch.length) * 4 ** attempt))) break;
        if (this.tryWrite((current) => this.plan(current, batch, now, 0))) return;
      }
    }
    this.dropBatch(batch, now);
    // Acks, seqs and drop records still go in a write without inserts: deleting acked rows is how space comes back.
    if (!this.tryWrite((current) => this.plan(current, [], now, 0))) this.scheduleRetry();
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
  private tryWrite(makePlan: (store: Store) => CommitPlan): boolean {
    const store = this.store;
    if (!store) return false;
    let plan: CommitPlan;
    try {
      plan = makePlan(store);
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

  private plan(store: Store, batch: PendingAppend[], now: number, extraEvictions: number): CommitPlan {
    const { maxRows, maxBytes, fullPolicy } = this.deps.options;
    const { ids: ackedIds, bytes: ackedBytes } = this.inFlight.pendingDeletes();
    let rows = this.depth - ackedIds.length;
    let bytes = this.bytes - ackedBytes;
    let accepted: PendingAppend[] = [];
    const refused: PendingAppend[] = [];
    let evicted: StoredRow[] = [];
    if (fullPolicy === 'drop-newest') {
      for (const item of batch) {
        if (rows + 1 > maxRows || bytes + item.size > maxBytes) {
          refused.push(item);
        } else {
          accepted.push(item);
          rows++;
          bytes += item.size;
        }
      }
    } else {
      let batchBytes = 0;
      for (const item of batch) batchBytes += item.size;
      const needRows = Math.max(rows + batch.length - maxRows, extraEvictions);
      const needBytes = bytes + batchBytes - maxBytes;
      // Bounded, so a lowered maxRows is reached over several commits instead of one huge one.
      const quota = batch.length + extraEvictions + MAX_CATCH_UP_EVICTIONS;
      let exhausted = false;
      if (needRows > 0 || needBytes > 0) ({ rows: evicted, exhausted } = this.oldestEvictable(store, needRows, needBytes, quota));
      for (const row of evicted) {
        rows--;
        bytes -= row.size;
      }
      accepted = batch.slice();
      // Only when nothing more can be evicted (the rest is in flight) do new readings give way.
      while (exhausted && accepted.length > 0 && (rows + accepted.length > maxRows || bytes + batchBytes > maxBytes)) {
        const oldest = accepted.shift() as PendingAppend;
        batchBytes -= oldest.size;
        refused.push(oldest);
      }
    }
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
    const dropped: Drop[] = [
      ...evicted.map((row) => ({ sensorId: row.sensorId, seq: row.seq, reason: 'capacity' as const })),
      ...refused.map((item) => ({ sensorId: item.sample.sensorId, seq: item.seq, reason: 'capacity' as const })),
    ];
    const draft = this.ledger.draft(dropped, now);
    const dropRecords = new Map(this.unpersistedDrops);
    for (const record of draft.records) dropRecords.set(record.id, record);
    const changes: ChangeSet = {
      inserts,
      deletes: [...ackedIds, ...evicted.map((row) => row.id)],
      seqs: [...this.dirtySeqs].map((sensorId) => [sensorId, this.lastSeqs.get(sensorId) as number]),
      dropRecords: [...dropRecords.values()],
    };
    return { changes, accepted, refused, evicted, ackedIds, ackedBytes, draft, at };
  }

  /** Oldest rows not in flight, until `needRows` rows and `needBytes` bytes are covered or `quota` rows are chosen; `exhausted` when none were left. */
  private oldestEvictable(store: Store, needRows: number, needBytes: number, quota: number): { rows: StoredRow[]; exhausted: boolean } {
    const chosen: StoredRow[] = [];
    let bytes = 0;
    let after = 0;
    for (;;) {
      const rows = store.scanUp(after, SCAN_CHUNK);
      for (const row of rows) {
        after = row.id;
        if (this.inFlight.has(row.id)) continue;
        chosen.push(row);
        bytes += row.size;
        if ((chosen.length >= needRows && bytes >= needBytes) || chosen.length >= quota) return { rows: chosen, exhausted: false };
      }
      if (rows.length < SCAN_CHUNK) return { rows: chosen, exhausted: true };
    }
  }

  private applied(plan: CommitPlan): void {
    this.nextId += plan.accepted.length;
    this.lastAt = plan.at;
    this.inFlight.deleted(plan.ackedIds);
    this.depth -= plan.ackedIds.length;
    this.bytes -= plan.ackedBytes;
    this.removeRows(plan.evicted);
    for (const row of plan.changes.inserts) {
      this.depth++;
      this.bytes += row.size;
    }
    this.dirtySeqs.clear();
    this.unpersistedDrops.clear();
    this.ledger.apply(plan.draft);
    this.dropRecordCount += plan.draft.created;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.failing && plan.changes.inserts.length > 0 && plan.at - this.lastFailureAt >= RECOVERY_QUIET_MS) {
      this.failing = undefined;
      this.raise({ kind: 'recovered', severity: 'info', message: 'buffer storage works again; readings are being stored' });
    }
    const capacityDrops = plan.evicted.length + plan.refused.length;
    if (capacityDrops > 0) {
      this.countDrops('capacity', capacityDrops);
      if (!this.capacityAlerted && !this.failing) {
        this.capacityAlerted = true;
        this.raise({
          kind: 'capacity',
          severity: 'warning',
          message: `buffer is full (${this.depth} readings, ${this.bytes} bytes): policy ${this.deps.options.fullPolicy} is dropping readings`,
        });
      }
    } else if (this.depth < this.deps.options.maxRows * 0.95 && this.bytes < this.deps.options.maxBytes * 0.95) {
      this.capacityAlerted = false;
    }
    this.metrics?.appended.inc(plan.accepted.length);
    for (const item of plan.accepted) item.resolve({ sensorId: item.sample.sensorId, ts: item.sample.ts, values: item.sample.values, seq: item.seq });
    for (const item of plan.refused) item.reject(new ReadingDroppedError(item.sample.sensorId, item.seq, 'capacity'));
  }

  /** Storage refused the batch: it is lost, its seqs stay used and drop records explain the gap once storage works again. */
  private dropBatch(batch: PendingAppend[], now: number): void {
    if (batch.length > 0) {
      const draft = this.ledger.draft(
        batch.map((item) => ({ sensorId: item.sample.sensorId, seq: item.seq, reason: 'io-error' as const })),
        now,
      );
      this.ledger.apply(draft);
      this.dropRecordCount += draft.created;
      for (const record of draft.records) this.unpersistedDrops.set(record.id, record);
      this.countDrops('io-error', batch.length);
      for (const item of batch) item.reject(new ReadingDroppedError(item.sample.sensorId, item.seq, 'io-error'));
    }
  }

  private scheduleRetry(): void {
    if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.commit();
      }, RETRY_MS);
      this.retryTimer.unref();
    }
  }

  private storageFailed(error: unknown): StorageFailure {
    if (isCorruption(error) && this.replaceStore(error)) return 'io-error';
    const failure = classifyStorageError(error);
    this.metrics?.storageErrors.inc({ kind: failure });
    this.lastFailureAt = this.deps.clock.now();
    if (this.failing !== failure) {
      this.failing = failure;
      const message =
        failure === 'disk-full'
          ? `buffer disk is full (${errorMessage(error)}): applying ${this.deps.options.fullPolicy}; free space on the data partition`
          : `buffer storage failed (${errorMessage(error)}); readings may be lost until it works again`;
      this.raise({ kind: failure, severity: 'critical', message });
    }
    return failure;
  }

  // ---- helpers ----

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
    this.depth = 0;
    this.bytes = 0;
    this.inFlight.clear();
    this.ledger.forgetOpen();
    this.dropRecordCount = this.unpersistedDrops.size;
    this.metrics?.storageErrors.inc({ kind: 'io-error' });
    if (lost > 0) this.countDrops('io-error', lost);
    return true;
  }

  private removeRows(rows: readonly StoredRow[]): void {
    for (const row of rows) {
      this.depth--;
      this.bytes -= row.size;
    }
  }

  private countDrops(reason: DropReason, count: number): void {
    this.drops[reason] += count;
    this.metrics?.drops.inc({ reason }, count);
  }

  private oldestAgeMs(now: number): number | null {
    if (!this.store || this.depth === 0) return null;
    try {
      // Usually the first row looked at: the lowest leased one, or the next to lease.
      let after = this.inFlight.lowestUnacked() - 1;
      for (let chunk = 1; ; chunk = Math.min(chunk * 8, SCAN_CHUNK)) {
        const rows = this.store.scanUp(after, chunk);
        const oldest = rows.find((row) => !this.inFlight.isAcked(row.id));
        if (oldest) return Math.max(0, now - oldest.at);
        if (rows.length < chunk) return null;
        after = (rows.at(-1) as StoredRow).id;
      }
    } catch {
      return null;
    }
  }

  private ttlMs(): number | undefined {
    const hours = this.deps.options.ttlHours;
    return hours === undefined ? undefined : hours * 3_600_000;
  }
}
