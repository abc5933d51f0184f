import { z } from 'zod';
import { durationMs, filePath, identifier } from './common.js';

/** The OTA defaults, for the schema and for the `fieldgate ota` commands run without a config. */
export const OTA_DEFAULTS = {
  appId: 'fieldgate',
  markGoodTimeoutMs: 120_000,
  clockSkewSeconds: 300,
  maxBundleBytes: 1024 * 1024 * 1024,
  reserveBytes: 64 * 1024 * 1024,
} as const;

export const otaSchema = z.strictObject({
  /** Must be listed in a bundle's `targets.models`. */
  model: identifier,
  /** Defaults to the Node.js architecture (`arm64`, `arm`, `x64`, …). */
  arch: identifier.optional(),
  appId: identifier.default(OTA_DEFAULTS.appId),
  /** Defaults to `<gateway.dataDir>/ota`: versions/, current, staging/, state/. */
  rootDir: filePath.optional(),
  /** Defaults to the key set shipped with the app (native-config/ota/trusted-keys.json). */
  trustedKeysFile: filePath.optional(),
  markGoodTimeoutMs: durationMs
    .min(1000, { error: 'expected at least 1000 ms: the new version needs time to start and pass its health checks' })
    .default(OTA_DEFAULTS.markGoodTimeoutMs),
  clockSkewSeconds: z.number().int().min(0).max(3600, { error: 'expected at most 3600 seconds' }).default(OTA_DEFAULTS.clockSkewSeconds),
  maxBundleBytes: z.number().int().positive().default(OTA_DEFAULTS.maxBundleBytes),
  /** Space left free on the OTA filesystem after extracting. */
  reserveBytes: z.number().int().min(0).default(OTA_DEFAULTS.reserveBytes),
  /** When a supervisor runs `<rootDir>/current`, e.g. ["systemctl", "restart", "fieldgate"]. */
  restartCommand: z.array(z.string().min(1)).min(1).optional(),
});

export type OtaConfig = z.infer<typeof otaSchema>;
