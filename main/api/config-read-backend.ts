import { createHash } from 'node:crypto';
import type { Config } from '../shared/config/schema.js';
import { configJsonSchema } from '../shared/config/schema.js';
import type { ConfigBackend } from './backends.js';

/** A version token for a config: changes whenever any value does. */
export function configVersion(config: Config): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/** The config as loaded at start, read-only (the live config document replaces it when it lands). */
export function createConfigReadBackend(config: () => Config, file: string | null = null): ConfigBackend {
  return {
    read: () => {
      const current = config();
      return { version: configVersion(current), file, config: current as unknown as Record<string, unknown> };
    },
    schema: () => ({ schema: configJsonSchema() }),
    cloud: () => ({ settings: config().cloud ?? null }),
  };
}
