import type { DropReason } from './types.js';

/** `append` rejects with this when the reading got a seq but was dropped (full buffer, storage failure). */
export class ReadingDroppedError extends Error {
  constructor(
    readonly sensorId: string,
    readonly seq: number,
    readonly reason: DropReason,
  ) {
    super(`reading ${sensorId}#${seq} was dropped (${reason})`);
    this.name = 'ReadingDroppedError';
  }
}

export type StorageFailure = 'disk-full' | 'io-error';

/** better-sqlite3 errors carry SQLite's extended code, e.g. SQLITE_FULL or SQLITE_IOERR_WRITE (fs errors: ENOSPC, …). */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyStorageError(error: unknown): StorageFailure {
  const code = sqliteCode(error);
  return code === 'SQLITE_FULL' || code === 'ENOSPC' ? 'disk-full' : 'io-error';
}

export function isCorruption(error: unknown): boolean {
  const code = sqliteCode(error) ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
