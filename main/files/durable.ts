import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Makes a new, renamed or removed entry in `dir` survive power loss. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A new file beside `path` under an unguessable name, opened with O_EXCL ('wx'), so nobody can
 * plant a symlink or a file there in advance; written and fsynced before it is returned.
 */
function writeTemporary(path: string, data: string | Uint8Array, mode: number): string {
  const temporary = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(8).toString('hex')}`);
  const fd = openSync(temporary, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  return temporary;
}

/** Replaces `path` atomically and durably: after a crash it holds the old content or the new, never part of either. */
export function writeFileDurably(path: string, data: string | Uint8Array, mode: number): void {
  const temporary = writeTemporary(path, data, mode);
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
  fsyncDirSync(dirname(path));
}

/**
 * Creates `path` with its whole content, durably, only if it does not exist yet (link(2) refuses
 * an existing name). Returns false when another writer got there first; its file is kept.
 */
export function createFileDurably(path: string, data: string | Uint8Array, mode: number): boolean {
  const temporary = writeTemporary(path, data, mode);
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    unlinkSync(temporary);
    fsyncDirSync(dirname(path));
  }
  return true;
}

/** Moves a file into place and makes the rename durable. */
export function renameDurably(from: string, to: string): void {
  renameSync(from, to);
  fsyncDirSync(dirname(to));
}
