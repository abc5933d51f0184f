import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../shared/errors.js';

const MIN_TOKEN_LENGTH = 32;

/** Checks a presented bearer token in constant time (digests make the lengths equal). */
export function createTokenCheck(expected: string): (presented: string | undefined) => boolean {
  const token = expected.trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new RangeError(`"ui.tokenFile": token must be at least ${MIN_TOKEN_LENGTH} characters, got ${token.length}`);
  }
  const expectedDigest = createHash('sha256').update(token).digest();
  return (presented) => {
    const digest = createHash('sha256').update(presented ?? '').digest();
    return timingSafeEqual(digest, expectedDigest) && presented !== undefined;
  };
}

/** Compares two secrets in constant time; false when either is missing. */
export function sameSecret(presented: string | undefined, expected: string | undefined): boolean {
  if (presented === undefined || expected === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** Reads a token file, refusing one that group or others can read (as for private keys). */
export function readTokenFile(file: string, key = 'ui.tokenFile'): string {
  let mode: number;
  let token: string;
  try {
    mode = statSync(file).mode & 0o777;
    token = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`"${key}": cannot read ${file} (${(error as NodeJS.ErrnoException).code}); create it with: (umask 077; openssl rand -hex 32 > ${file})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new UserError(`"${key}": ${file} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); refusing it. Fix: chmod 600 ${file}`);
  }
  return token;
}
