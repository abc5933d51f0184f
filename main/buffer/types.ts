import type { Reading, Sample } from '../shared/reading.js';
import type { SampleSink } from '../shared/source.js';

export type DropReason = 'capacity' | 'ttl' | 'io-error';

/** A buffered reading as leased for sending; `id` is the buffer's row id, used to ack or nack. */
export interface LeasedReading extends Reading {
  id: number;
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

export interface BufferStats {
  depth: number;
  bytes: number;
  inFlight: number;
  oldestUnsentAgeMs: number | null;
  drops: Record<DropReason, number>;
  pendingDropRecords: number;
}

/**
 * The durable outbox between sources and the uplink. `append` (via `accept`) resolves only after
 * the group commit holding the sample returned: from then on the reading survives kill -9.
 */
export interface ReadingBuffer extends SampleSink {
  append(sample: Sample): Promise<Reading>;
  /** Oldest first (or newest first for `live-first`); per-sensor seq order is kept within a lease. Leased rows are not leased again until nacked. */
  lease(options: LeaseOptions): LeasedReading[];
  /** Deletes rows the broker acknowledged. */
  ack(ids: readonly number[]): void;
  /** Returns leased rows to the queue (publish failed or connection lost). */
  nack(ids: readonly number[]): void;
  /** Drops readings older than the TTL; returns how many were dropped. */
  prune(now: number): number;
  stats(now: number): BufferStats;
  dropRecords(max: number): DropRecord[];
  ackDropRecords(ids: readonly number[]): void;
}
