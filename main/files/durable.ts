import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writing files so that power loss leaves the old content or the new, never part of either: a
 * temp file beside the target, fsynced, renamed (or linked) over it, then the folder fsynced.
 * The `…Sync` functions block (for code that must not yield mid-way); the others are async.
 */

/** A name beside `path` nobody can guess, so nobody can plant a symlink or a file there in advance (opened with O_EXCL, 'wx'). */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${randomBytes(8).toString('hex')}`);
}

/** Makes a new, renamed or removed entry in `dir` survive power loss. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A new file at temporaryPath(path), written and fsynced before it is returned. */
function writeTemporarySync(path: string, data: string | Uint8Array, mode: number): string {
  const temporary = temporaryPath(path);
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
export function writeFileDurablySync(path: string, data: string | Uint8Array, mode: number): void {
  const temporary = writeTemporarySync(path, data, mode);
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
  fsyncDirSync(dirname(path));
}

/** writeFileDurablySync without blocking the event loop. */
export async function writeFileDurably(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temporary = temporaryPath(path);
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

/**
 * Creates `path` with its whole content, durably, only if it does not exist yet (link(2) refuses
 * an existing name). Returns false when another writer got there first; its file is kept.
 */
export function createFileDurablySync(path: string, data: string | Uint8Array, mode: number): boolean {
  const temporary = writeTemporarySync(path, data, mode);
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
export function renameDurablySync(from: string, to: string): void {
  renameSync(from, to);
  fsyncDirSync(dirname(to));
}
