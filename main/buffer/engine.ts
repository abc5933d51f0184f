import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { BufferConfig } from '../shared/config/buffer.js';
import type { Reading, Sample } from '../shared/reading.js';
import type { Store, StoredRow } from './store.js';
import type { BufferAlert, BufferStats, DropRecord, LeasedReading, LeaseOptions, ReadingBuffer } from './types.js';
import { planCommit, type CommitPlan } from './commit-plan.js';
import { DropAccounts } from './drop-accounts.js';
import { ReadingDroppedError, isCorruption } from './errors.js';
import { GroupCommit, MAX_BATCH, type PendingAppend } from './group-commit.js';
import { InFlight } from './in-flight.js';
import { LeasedRow } from './leased-row.js';
import { registerBufferMetrics, type BufferMetrics } from './metrics.js';
import { oldestUnsentAgeMs } from './oldest-unsent.js';
import { checkSample } from './sample-check.js';
import { SensorSeqs } from './sensor-seqs.js';
import { StorageHealth } from './storage-health.js';
import { StoredTotals } from './stored-totals.js';
import { TtlPruner } from './ttl-pruner.js';
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

/** On disk full with drop-oldest: evict more and retry this many times before dropping the batch. */
const DISK_FULL_RETRIES = 3;

/**
 * The buffer's logic over a synchronous Store: appends and acks go out in group commits, each
 * applying the capacity policy; leases, TTL and storage failures are handled here too.
 * Subclasses open and close the store.
 */
export class BufferEngine implements ReadingBuffer {
  protected readonly log: Logger;
  private store: Store | undefined;
  private readonly totals = new StoredTotals();
  private readonly seqs = new SensorSeqs();
  private readonly inFlight = new InFlight();
  private readonly commits: GroupCommit;
  private readonly drops: DropAccounts;
  private readonly health: StorageHealth;
  private readonly pruner: TtlPruner;
  private replacing = false;
  private readonly metrics: BufferMetrics | undefined;

  constructor(protected readonly deps: BufferDeps) {
    this.log = deps.log;
    this.metrics = deps.metrics ? registerBufferMetrics(deps.metrics, this, deps.clock) : undefined;
    this.commits = new GroupCommit({ options: deps.options, commit: () => this.commit() });
    this.drops = new DropAccounts(this.metrics);
    this.health = new StorageHealth({ options: deps.options, clock: deps.clock, metrics: this.metrics, raise: (alert) => this.raise(alert) });
    this.pruner = new TtlPruner({
      options: deps.options,
      log: deps.log,
      clock: deps.clock,
      store: () => this.store,
      inFlight: this.inFlight,
      drops: this.drops,
      totals: this.totals,
      storageFailed: (error) => this.storageFailed(error),
    });
  }

  // ---- lifecycle (for subclasses) ----

  protected get running(): boolean {
    return this.store !== undefined;
  }

  protected attach(store: Store): void {
    const snapshot = store.snapshot();
    this.store = store;
    this.totals.opened(snapshot);
    this.seqs.load(snapshot.lastSeqs);
    this.drops.opened(snapshot);
    this.pruner.start();
  }

  /** Writes what is pending, stops timers and hands the store back for closing. */
  protected detach(): Store | undefined {
    this.pruner.stop();
    this.commit();
    this.commits.stop();
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
    const seq = this.seqs.next(sample.sensorId);
    const wire = encodeWire(sample.sensorId, seq, sample.ts, valuesJson);
    const size = Buffer.byteLength(wire);
    return new Promise<Reading>((resolve, reject) => this.commits.add({ sample, seq, valuesJson, wire, size, resolve, reject }));
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
    else if (this.inFlight.ackedCount > 0) this.commits.schedule();
  }

  nack(ids: readonly number[]): void {
    this.inFlight.nack(ids);
  }

  dropRefused(ids: readonly number[]): number {
    const store = this.store;
    const leased = ids.filter((id) => this.inFlight.has(id) && !this.inFlight.isAcked(id));
    if (!store || leased.length === 0) return 0;
    try {
      const rows = leased
        .map((id) => store.scanUp(id - 1, 1)[0])
        .filter((row): row is StoredRow => row !== undefined && leased.includes(row.id))
        .sort((a, b) => a.id - b.id);
      const now = this.deps.clock.now();
      const draft = this.drops.draft(
        rows.map((row) => ({ sensorId: row.sensorId, seq: row.seq, reason: 'refused' as const })),
        now,
      );
      store.write({ inserts: [], deletes: rows.map((row) => row.id), seqs: [], dropRecords: draft.records });
      this.drops.written(draft);
      this.inFlight.forget(rows.map((row) => row.id));
      this.totals.removed(rows);
      this.drops.count('refused', rows.length);
      return rows.length;
    } catch (error) {
      this.inFlight.nack(leased);
      this.storageFailed(error);
      return 0;
    }
  }

  prune(now: number): number {
    return this.pruner.prune(now);
  }

  stats(now: number): BufferStats {
    return {
      depth: this.totals.depth,
      bytes: this.totals.bytes,
      inFlight: this.inFlight.leasedCount,
      oldestUnsentAgeMs: this.store && this.totals.depth !== 0 ? oldestUnsentAgeMs(this.store, this.inFlight, now) : null,
      drops: this.drops.byReason,
      pendingDropRecords: this.drops.pendingRecordCount,
    };
  }

  dropRecords(max: number): DropRecord[] {
    if (!this.store || max <= 0) return [];
    try {
      const records = this.store.dropRecords(max);
      this.drops.handedOut(records);
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

  /** Writes the pending group commit now instead of at the end of the window. */
  async flush(): Promise<void> {
    this.commit();
  }

  // ---- group commit ----

  private commit(): void {
    const batch = this.commits.take();
    if (!this.store) {
      for (const item of batch) item.reject(new Error('the buffer stopped before the reading was committed'));
      return;
    }
    if (batch.length === 0 && this.inFlight.ackedCount === 0 && !this.seqs.unwritten && !this.drops.hasUnpersisted) return;
    const now = this.deps.clock.now();
    if (this.tryWrite((current) => this.plan(current, batch, now, 0))) return;
    if (this.reclaim() && this.tryWrite((current) => this.plan(current, batch, now, 0))) return;
    if (this.health.failing === 'disk-full' && this.deps.options.fullPolicy === 'drop-oldest') {
      // Make room first (a write that only deletes), then store the batch.
      for (let attempt = 0; attempt < DISK_FULL_RETRIES && this.totals.depth - this.inFlight.ackedCount > 0; attempt++) {
        if (!this.tryWrite((current) => this.plan(current, [], now, Math.max(64, batch.length) * 4 ** attempt))) break;
        if (this.tryWrite((current) => this.plan(current, batch, now, 0))) return;
      }
    }
    this.dropBatch(batch, now);
    // Acks, seqs and drop records still go in a write without inserts: deleting acked rows is how space comes back.
    if (!this.tryWrite((current) => this.plan(current, [], now, 0))) this.commits.retryLater();
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
    const { options } = this.deps;
    return planCommit({ store, batch, now, extraEvictions, options, totals: this.totals, inFlight: this.inFlight, seqs: this.seqs, drops: this.drops });
  }

  private applied(plan: CommitPlan): void {
    this.inFlight.deleted(plan.ackedIds);
    this.totals.acked(plan.ackedIds.length, plan.ackedBytes);
    this.totals.removed(plan.evicted);
    this.totals.inserted(plan.changes.inserts, plan.at);
    this.seqs.written();
    this.drops.committed(plan.draft);
    this.commits.written();
    if (plan.changes.inserts.length > 0) this.health.stored(plan.at);
    const capacityDrops = plan.evicted.length + plan.refused.length;
    if (capacityDrops > 0) this.drops.count('capacity', capacityDrops);
    this.health.committed(capacityDrops, this.totals.depth, this.totals.bytes);
    this.metrics?.appended.inc(plan.accepted.length);
    for (const item of plan.accepted) item.resolve({ sensorId: item.sample.sensorId, ts: item.sample.ts, values: item.sample.values, seq: item.seq });
    for (const item of plan.refused) item.reject(new ReadingDroppedError(item.sample.sensorId, item.seq, 'capacity'));
  }

  /** Storage refused the batch: it is lost, its seqs stay used and drop records explain the gap once storage works again. */
  private dropBatch(batch: PendingAppend[], now: number): void {
    if (batch.length === 0) return;
    this.drops.lostUnwritten(
      batch.map((item) => ({ sensorId: item.sample.sensorId, seq: item.seq, reason: 'io-error' as const })),
      now,
    );
    for (const item of batch) item.reject(new ReadingDroppedError(item.sample.sensorId, item.seq, 'io-error'));
  }

  private storageFailed(error: unknown): void {
    if (isCorruption(error) && this.replaceStore(error)) return;
    this.health.failed(error);
  }

  /** Swaps a corrupt store for a fresh one; the readings in the damaged file count as lost (io-error). */
  private replaceStore(error: unknown): boolean {
    if (this.replacing || !this.store) return false;
    const lost = this.totals.depth;
    let replacement: Store | undefined;
    this.replacing = true;
    try {
      replacement = this.replaceCorruptStore(error, this.seqs.lastSeqs, lost);
    } finally {
      this.replacing = false;
    }
    if (!replacement) return false;
    this.store = replacement;
    this.totals.emptied();
    this.inFlight.clear();
    this.drops.storeReplaced();
    this.metrics?.storageErrors.inc({ kind: 'io-error' });
    if (lost > 0) this.drops.count('io-error', lost);
    return true;
  }
}
