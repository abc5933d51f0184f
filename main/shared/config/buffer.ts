import { z } from 'zod';
import { durationMs, filePath } from './common.js';

export const bufferSchema = z
  .strictObject({
    /** Defaults to `<gateway.dataDir>/buffer.db`. */
    path: filePath.optional(),
    synchronous: z.enum(['full', 'normal']).default('full'),
    commitWindowMs: durationMs.max(10).default(5),
    maxRows: z.number().int().positive().default(5_000_000),
    maxBytes: z.number().int().positive().default(1024 * 1024 * 1024),
    fullPolicy: z.enum(['drop-oldest', 'drop-newest']).default('drop-oldest'),
    ttlHours: z.number().positive().optional(),
  })
  .prefault({});

export type BufferConfig = z.infer<typeof bufferSchema>;
