import { z } from 'zod';
import { filePath } from './common.js';

export const bleSchema = z.strictObject({
  /** Scan with this adapter only; every adapter when absent. */
  adapter: z
    .string()
    .regex(/^hci[0-9]{1,3}$/, { error: 'expected an adapter name such as hci0' })
    .optional(),
  /** Re-arm discovery when no device reported anything for this long. */
  noDataTimeoutSeconds: z.number().int().min(10, { error: 'expected an integer >= 10' }).max(86_400).default(300),
  /** A sensor is shown offline after this long without an advertisement. */
  offlineAfterSeconds: z.number().int().min(10, { error: 'expected an integer >= 10' }).max(86_400).default(600),
  /** Longest pairing session (permit-join) the API may open. */
  pairingWindowSeconds: z.number().int().min(10, { error: 'expected an integer >= 10' }).max(3600).default(300),
  /** Allowlist, its key and replay counters; defaults to `<gateway.dataDir>/ble`. */
  stateDir: filePath.optional(),
});

export type BleConfig = z.infer<typeof bleSchema>;
