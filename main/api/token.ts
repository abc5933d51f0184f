import { createHash, timingSafeEqual } from 'node:crypto';

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

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}
