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
