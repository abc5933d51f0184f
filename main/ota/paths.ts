import { OtaError } from './reasons.js';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const MAX_PATH_LENGTH = 255;
const MAX_DEPTH = 16;

/** In the archive, the manifest comes first and every payload file sits under this folder. */
export const MANIFEST_ENTRY = 'manifest.json';
export const PAYLOAD_PREFIX = 'payload/';

/**
 * A payload path is relative, `/`-separated, made of plain names (letters, digits, `.`, `_`, `-`,
 * not starting with `.` or `-`), so it can never leave the version folder on any filesystem.
 */
export function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.length > MAX_PATH_LENGTH) return false;
  const segments = path.split('/');
  return segments.length <= MAX_DEPTH && segments.every((segment) => SEGMENT.test(segment));
}

/** Maps an archive entry name to its payload path, refusing anything that could escape. */
export function payloadPathOf(entryName: string): string {
  if (entryName.startsWith('/') || entryName.startsWith('\\') || /^[A-Za-z]:/.test(entryName)) {
    throw new OtaError('archive-absolute-path', `archive entry "${entryName}" has an absolute path`);
  }
  if (entryName.split(/[\\/]/).some((segment) => segment === '..')) {
    throw new OtaError('archive-path-traversal', `archive entry "${entryName}" climbs out of the bundle with ".."`);
  }
  const path = entryName.startsWith(PAYLOAD_PREFIX) ? entryName.slice(PAYLOAD_PREFIX.length) : '';
  if (!isSafeRelativePath(path)) {
    throw new OtaError(
      'archive-bad-path',
      `archive entry "${entryName}": expected "${MANIFEST_ENTRY}" or "${PAYLOAD_PREFIX}<path>" with plain names (letters, digits, ".", "_", "-")`,
    );
  }
  return path;
}
