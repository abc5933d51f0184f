import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `file` with `text` so that a crash at any point leaves either the old or the new
 * content, never a torn file. The previous content is kept as `<file>.bak`. The temp file has a
 * random name and is opened with O_EXCL, so a planted symlink or a concurrent writer cannot
 * redirect the write. The new file keeps the old one's permission bits (0600 when there was none).
 */
export async function replaceFileAtomically(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o600);
  const backupTemp = await copyToTemp(file, dir, mode);
  if (backupTemp) await rename(backupTemp, `${file}.bak`);
  const temp = tempName(dir, file);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

function tempName(dir: string, file: string): string {
  return join(dir, `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
}

/** A durable copy of the current file under a temp name, or undefined when there is no file yet. */
async function copyToTemp(file: string, dir: string, mode: number): Promise<string | undefined> {
  const temp = tempName(dir, file);
  try {
    await copyFile(file, temp, constants.COPYFILE_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const handle = await open(temp, 'r+');
  try {
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
