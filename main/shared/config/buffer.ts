import { z } from 'zod';
import { durationMs, filePath } from './common.js';

export const bufferSchema = z
  .strictObject({
    /** Defaults to `<gateway.dataDir>/buffer.db`. */
    path: filePath.optional(),
    /** `full`: fsync at every group commit, nothing accepted is lost on power loss. `normal`: faster; power loss may lose about the last second (seqs are still never reused); kill -9 loses nothing. */
    synchronous: z.enum(['full', 'normal'], { error: 'expected "full" or "normal"' }).default('full'),
    /** Appends arriving within this window share one transaction (one fsync). */
    commitWindowMs: durationMs.max(10, { error: 'expected an integer from 0 to 10 (milliseconds)' }).default(5),
    /** Capacity in readings; when reached, `fullPolicy` decides what is dropped. */
    maxRows: z.number().int({ error: 'expected an integer > 0' }).positive({ error: 'expected an integer > 0' }).default(5_000_000),
    /** Capacity in payload bytes, counted as the readings' wire JSON (the file itself is usually a bit smaller). */
    maxBytes: z.number().int({ error: 'expected an integer >= 1024' }).min(1024, { error: 'expected an integer >= 1024' }).default(1024 * 1024 * 1024),
    /** `drop-oldest` evicts the oldest unsent readings to make room; `drop-newest` refuses new ones. */
    fullPolicy: z.enum(['drop-oldest', 'drop-newest'], { error: 'expected "drop-oldest" or "drop-newest"' }).default('drop-oldest'),
    /** Hard cap on the database file size (SQLite max_page_count), to protect a shared partition; reaching it is handled like a full disk. */
    maxFileBytes: z.number().int({ error: 'expected an integer >= 65536' }).min(65_536, { error: 'expected an integer >= 65536' }).optional(),
    /** Readings waiting in the buffer longer than this are dropped (reason `ttl`). Omit to keep them until sent. */
    ttlHours: z.number().positive({ error: 'expected a number of hours > 0 (omit the key to keep readings until sent)' }).optional(),
  })
  .prefault({});

export type BufferConfig = z.infer<typeof bufferSchema>;

// ---- Internal tunables of the buffer ----
// Not configurable (no key in the YAML): sizes and intervals chosen for a Raspberry Pi-class box
// with an SD card, listed here beside the user-facing defaults above so each has one home.
// `npm run bench` is the check after changing one.

// Group commit (main/buffer/engine.ts)
/** Appends (or acks) waiting that get their group commit written at once, without waiting for `commitWindowMs`. */
export const MAX_GROUP_COMMIT_ROWS = 10_000;
/** After a group commit that could not write even its deletes: try again this much later. */
export const COMMIT_RETRY_MS = 1_000;
/** On a full disk with drop-oldest: evict more and retry this many times before the new readings are dropped… */
export const DISK_FULL_RETRIES = 3;
/** …evicting at least this many rows (or as many as are waiting to be stored) the first time, four times as many each next time. */
export const DISK_FULL_MIN_EVICTIONS = 64;

// Scans of the store (main/buffer/engine.ts, leases.ts, capacity-policy.ts)
/** Rows read per scan when walking the store (leases, evictions, the oldest unsent reading). */
export const SCAN_CHUNK = 1_024;
/** A fifo lease reads this many rows beyond what it still needs, so a few in-flight rows do not cost a second query. */
export const LEASE_READ_SLACK = 16;
/** Rows a group commit may evict beyond its own appends, to get back under a lowered capacity over several commits. */
export const MAX_CATCH_UP_EVICTIONS = 10_000;

// TTL (main/buffer/engine.ts)
/** Rows read at once by a TTL prune; each chunk's expired rows go out in one group commit, one chunk per event-loop turn from the timer. */
export const PRUNE_CHUNK = 4_096;
/** The TTL is checked a tenth of `ttlHours` apart, but not more often than this… */
export const MIN_PRUNE_INTERVAL_MS = 1_000;
/** …and not less often than this. */
export const MAX_PRUNE_INTERVAL_MS = 60_000;

// Storage health (main/buffer/storage-health.ts)
/** Storage counts as recovered after this long without a failed write (no alert flapping while drop-oldest works at the limit). */
export const RECOVERY_QUIET_MS = 30_000;
/** The capacity alert is raised again only after the buffer got below this share of both limits. */
export const CAPACITY_REARM = 0.95;

// Scan cache (main/buffer/scan-cache.ts)
/** Newest committed rows kept in memory (a few MB): every live reading between two leases. */
export const SCAN_CACHE_TAIL_ROWS = 8_192;
/** Rows read from the file at once when a scan starts below the tail. */
export const SCAN_CACHE_READ_AHEAD_ROWS = 1_024;
/** Read-ahead windows kept: one where leases continue, others for scans from the start (stats, TTL, eviction). */
export const SCAN_CACHE_READ_AHEAD_WINDOWS = 3;
/** Scans for at most this many rows are look-ups (the oldest row's age): no window is read for them. */
export const SCAN_CACHE_LOOK_UP_ROWS = 8;

// SQLite (main/buffer/sqlite-store.ts, sqlite-buffer.ts)
/** Rows per multi-row INSERT/DELETE statement. */
export const SQL_CHUNK_ROWS = 64;
/** Consecutive ids are deleted with one range statement from this many on. */
export const MIN_RANGE_DELETE = 4;
/** With `synchronous: normal`, a checkpoint this often fsyncs the WAL: power loss loses at most this much (or 1000 WAL pages). */
export const NORMAL_SYNC_INTERVAL_MS = 1_000;
/** With `synchronous: normal`, seqs reserved durably ahead of use (see main/buffer/seq-guard.ts). */
export const SEQ_RESERVE_AHEAD = 1_000;
/** SQLite's page cache for the buffer file, in KiB. */
export const SQLITE_CACHE_KIB = 8_000;
/** The WAL is truncated back to this size after a checkpoint. */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** How long opening the file waits for a lock before saying another process holds it. */
export const OPEN_BUSY_TIMEOUT_MS = 1_000;
