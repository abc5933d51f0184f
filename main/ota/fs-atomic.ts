import { randomBytes } from 'node:crypto';
import { rename, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, writeFileDurably } from '../files/durable.js';

export async function writeJsonDurably(path: string, value: unknown): Promise<void> {
  await writeFileDurably(path, `${JSON.stringify(value, null, 2)}\n`, 0o644);
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
