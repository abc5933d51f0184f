import type { RaisedAlert } from '../shared/alert.js';
import type { Reading, Sample } from '../shared/reading.js';
import type { SampleSink } from '../shared/source.js';

/** `refused`: the uplink set the reading aside because the broker refuses it every time (see dropRefused). */
export type DropReason = 'capacity' | 'ttl' | 'io-error' | 'refused';

/**
 * A buffered reading as leased for sending; `id` is the buffer's row id, used to ack or nack.
 * `values` may be a getter that parses on first access (the uplink only sends `wire`): read it,
 * do not rely on object spread to copy it.
 */
export interface LeasedReading extends Reading {
  id: number;
  /**
   * The reading's wire JSON (a `WireReading`, see wire.ts), encoded once at append so the uplink
   * can splice it into `{"readings":[...]}` without re-encoding.
   */
  wire: string;
}

export type DrainOrder = 'fifo' | 'live-first';

export interface LeaseOptions {
  max: number;
  /** Stop adding readings once their encoded size would exceed this. */
  maxBytes?: number;
  order?: DrainOrder;
}

/** Readings lost on purpose, to be reported upstream so the cloud knows what is missing and why. */
export interface DropRecord {
  id: number;
  sensorId: string;
  reason: DropReason;
  count: number;
  firstSeq: number;
  lastSeq: number;
  ts: number;
}

/** Something an operator must see (disk full, I/O errors, a quarantined file, readings dropped). */
export type BufferAlert = RaisedAlert<'buffer-alert'>;

export interface BufferStats {
  depth: number;
  bytes: number;
  inFlight: number;
  oldestUnsentAgeMs: number | null;
  /** Readings dropped since this process started, by reason (the drop records outlive restarts). */
  drops: Record<DropReason, number>;
  pendingDropRecords: number;
}

/**
 * The durable outbox between sources and the uplink. `append` (via `accept`) resolves only after
 * the group commit holding the sample returned: from then on the reading survives kill -9.
 */
export interface ReadingBuffer extends SampleSink {
  /**
   * Rejects with a RangeError naming the field for a sample that cannot be stored faithfully, and
   * with ReadingDroppedError (reason, seq) when the full policy or a storage failure dropped it.
   * `accept` resolves in the second case: the drop is counted, recorded and alerted by the buffer.
   */
  append(sample: Sample): Promise<Reading>;
  /** Oldest first (or newest first for `live-first`); per-sensor seq order is kept within a lease. Leased rows are not leased again until nacked. */
  lease(options: LeaseOptions): LeasedReading[];
  /** Deletes rows the broker acknowledged (in the next group commit; until then they are not leased again). Unknown ids are ignored. */
  ack(ids: readonly number[]): void;
  /** Returns leased rows to the queue (publish failed or connection lost). */
  nack(ids: readonly number[]): void;
  /**
   * Deletes leased rows the broker refuses every time, with drop records (reason `refused`), so they
   * stop blocking the queue. Ids not leased are ignored. Returns how many were dropped; when storage
   * fails, the rows go back to the queue instead and 0 is returned.
   */
  dropRefused(ids: readonly number[]): number;
  /** Drops readings older than the TTL; returns how many were dropped. */
  prune(now: number): number;
  stats(now: number): BufferStats;
  /** The oldest unreported drop records, the same ones again on every call until acknowledged. */
  dropRecords(max: number): DropRecord[];
  ackDropRecords(ids: readonly number[]): void;
}
