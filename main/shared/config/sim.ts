import { z } from 'zod';
import { identifier } from './common.js';

export const simSensorSchema = z.strictObject({
  id: identifier,
  /** Samples per second. */
  rate: z.number().positive().max(100_000).default(1),
  /** Quantities to simulate. */
  quantities: z
    .array(z.enum(['temperature', 'humidity', 'pressure']))
    .min(1)
    .default(['temperature', 'humidity']),
});

export type SimSensorConfig = z.infer<typeof simSensorSchema>;
