import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDirSync, writeFileDurablySync } from '../files/durable.js';
import { IdentityError } from './errors.js';

const GROUP_OR_WORLD = 0o077;

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * Refuses a key file or identity folder that anyone but its owner can reach, naming the fix.
 * Symlinks are refused too: the key must be the file the folder's permissions protect.
 */
export function assertPrivate(path: string, kind: 'file' | 'dir'): void {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new IdentityError('missing', `${path} does not exist`);
    throw error;
  }
  if (stats.isSymbolicLink()) {
    throw new IdentityError('permissions', `${path} is a symbolic link: the identity ${kind === 'dir' ? 'folder' : 'key'} must be a real ${kind === 'dir' ? 'folder' : 'file'}`);
  }
  if ((stats.mode & GROUP_OR_WORLD) !== 0) {
    const wanted = kind === 'dir' ? '700' : '600';
    const what = kind === 'dir' ? 'identity folder' : 'private key';
    throw new IdentityError(
      'permissions',
      `${what} ${path} is accessible to group or others (mode ${octal(stats.mode)}); refusing to use it. Fix: chmod ${wanted} ${path}`,
    );
  }
}

/** Creates the identity folder with mode 0700, or checks an existing one. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  assertPrivate(path, 'dir');
}

/** Writes a file with mode 0600 atomically: a crash leaves the old content or the new, never half of it. */
export function writePrivateFile(path: string, data: string): void {
  writeFileDurablySync(path, data, 0o600);
}

/**
 * Overwrites a file with random bytes, flushes, then unlinks it. On flash storage with wear
 * levelling this is best effort: old blocks may survive, so keys also live only in a 0700 folder.
 */
export function destroyFile(path: string): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const fd = openSync(path, 'r+');
  try {
    const chunk = 64 * 1024;
    for (let offset = 0; offset < size; offset += chunk) {
      writeSync(fd, randomBytes(Math.min(chunk, size - offset)), 0, undefined, offset);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  fsyncDirSync(dirname(path));
  return true;
}

/** Reads a private file, turning "permission denied" into the ownership fix. */
export function readPrivateFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    const owner = statSync(path).uid;
    throw new IdentityError(
      'permissions',
      `cannot read ${path}: it belongs to uid ${owner} and this process runs as uid ${process.getuid?.() ?? '?'}. Run fieldgate as the service user, or fix: chown ${process.getuid?.() ?? '<user>'} ${path}`,
    );
  }
}
