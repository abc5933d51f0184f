import type { DropRecord } from './types.js';

/** One buffered reading as stored. `valuesJson` is `JSON.stringify(values)`; `size` is the wire JSON's byte length. */
export interface StoredRow {
  id: number;
  sensorId: string;
  seq: number;
  ts: number;
  /** When the buffer accepted it (ms, never decreasing with id): drives the TTL and the oldest-unsent age. */
  at: number;
  size: number;
  valuesJson: string;
  /** The wire JSON (see encodeWire), when this process encoded it already; never stored. */
  wire?: string;
}

/** Everything one group commit writes, atomically. */
export interface ChangeSet {
  inserts: StoredRow[];
  deletes: number[];
  /** Per-sensor last seq; a store only ever raises it. */
  seqs: Array<[sensorId: string, lastSeq: number]>;
  /** Inserted or updated (merged) drop records. */
  dropRecords: DropRecord[];
}

/** What the engine needs to know when it opens a store. */
export interface StoreSnapshot {
  depth: number;
  bytes: number;
  maxId: number;
  maxAt: number;
  lastSeqs: Map<string, number>;
  dropRecordCount: number;
  maxDropRecordId: number;
}

/**
 * Where the buffer keeps its rows. Every method is synchronous; `write` is all-or-nothing and
 * throws when storage fails (disk full, I/O error), leaving the previous state intact.
 */
export interface Store {
  snapshot(): StoreSnapshot;
  write(changes: ChangeSet): void;
  /** Rows with id > `afterId` ascending, or id < `beforeId` descending. */
  scanUp(afterId: number, limit: number): StoredRow[];
  scanDown(beforeId: number, limit: number): StoredRow[];
  dropRecords(max: number): DropRecord[];
  /** Returns how many existed. */
  deleteDropRecords(ids: readonly number[]): number;
  /** After a failed write: give back what space it can (e.g. checkpoint and truncate the WAL). May throw. */
  reclaim(): void;
  close(): void;
}

export function emptyChangeSet(): ChangeSet {
  return { inserts: [], deletes: [], seqs: [], dropRecords: [] };
}
