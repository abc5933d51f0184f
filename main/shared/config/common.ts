import { z } from 'zod';

/** Identifiers that end up in MQTT topics and file names: no wildcards, separators or spaces. */
export const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: 'expected 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  });

/** A path to a file on the box. Secrets are always given this way, never inline. */
export const filePath = z.string().min(1, { error: 'expected a non-empty file path' });

export const durationMs = z.number().int().min(0);
