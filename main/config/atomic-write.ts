import { constants } from 'node:fs';
import { copyFile, open, rename, stat } from 'node:fs/promises';
import { temporaryPath, writeFileDurably } from '../files/durable.js';

/**
 * Replaces `file` with `text` so that a crash at any point leaves either the old or the new
 * content, never a torn file. The previous content is kept as `<file>.bak` (its rename is made
 * durable with the new file's). The new file keeps the old one's permission bits (0600 when there
 * was none).
 */
export async function replaceFileAtomically(file: string, text: string): Promise<void> {
  const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o600);
  const backup = await durableCopy(file, mode);
  if (backup) await rename(backup, `${file}.bak`);
  await writeFileDurably(file, text, mode);
}

/** A durable copy of the current file under a temp name, or undefined when there is no file yet. */
async function durableCopy(file: string, mode: number): Promise<string | undefined> {
  const temp = temporaryPath(file);
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
