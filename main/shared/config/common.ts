import { z } from 'zod';

/** Identifiers that end up in MQTT topics and file names: no wildcards, separators or spaces. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const identifier = z.string().regex(IDENTIFIER_PATTERN, {
  error: 'expected 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
});

/** A quantity name, as configured or as read off a line: `temperature`, `rh`, `pm2.5`. */
export const QUANTITY_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
export const QUANTITY_RULE = 'expected 1-64 characters of letters, digits, "_", "." or "-", starting with a letter';

/** A unit is a short symbol (`°C`, `%`, `hPa`), not free text. */
export const MAX_UNIT_LENGTH = 32;

/** A path to a file on the box. Secrets are always given this way, never inline. */
export const filePath = z.string().min(1, { error: 'expected a non-empty file path' });

export const durationMs = z.number().int().min(0);
