import { randomBytes } from 'node:crypto';
import { open, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Makes a rename or a new entry in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write to a fresh temp file, fsync it, rename it over `path`, fsync the folder: readers see old or new, never half. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export const TEMP_LINK_MARK = '.tmp-';

/**
 * Points `link` at `target` atomically: a symlink made under a temp name is renamed over the old
 * one (rename(2) replaces it in one step), then the folder is fsynced.
 */
export async function switchSymlink(link: string, target: string, beforeRename?: () => Promise<void>): Promise<void> {
  const temp = `${link}${TEMP_LINK_MARK}${randomBytes(6).toString('hex')}`;
  await symlink(target, temp);
  await beforeRename?.();
  await rename(temp, link);
  await fsyncDir(dirname(link));
}
