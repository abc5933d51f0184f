import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../identity/secure-files.js';

/** No 0/O, 1/I/L: the code is read off a screen or a journal and typed in. */
export const SETUP_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_LENGTH = 12;
export const SETUP_CODE_LIFETIME_MS = 24 * 60 * 60 * 1000;
export const SETUP_CODE_FILE = 'setup-code';

export interface IssuedSetupCode {
  /** Grouped for reading: `ABCD-EFGH-JKMN`. */
  code: string;
  expiresAt: string;
}

function normalize(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

function digest(code: string): Buffer {
  return createHash('sha256').update(normalize(code)).digest();
}

/**
 * The one-time code that trades for the first admin account. A new one per process start while
 * there is no admin; kept in `<dir>/setup-code` (0600) so `fieldgate status` can show it, and
 * deleted once used.
 */
export class SetupCode {
  private current: { code: string; digest: Buffer; expiresAt: number } | undefined;
  readonly file: string;

  constructor(private readonly deps: { dir: string; now: () => number }) {
    this.file = join(deps.dir, SETUP_CODE_FILE);
  }

  issue(): IssuedSetupCode {
    const raw = Array.from({ length: CODE_LENGTH }, () => SETUP_CODE_ALPHABET[randomInt(SETUP_CODE_ALPHABET.length)]).join('');
    const code = raw.match(/.{4}/g)!.join('-');
    const expiresAt = this.deps.now() + SETUP_CODE_LIFETIME_MS;
    this.current = { code, digest: digest(code), expiresAt };
    const issued = { code, expiresAt: new Date(expiresAt).toISOString() };
    ensurePrivateDir(this.deps.dir);
    writePrivateFile(this.file, `${JSON.stringify(issued)}\n`);
    return issued;
  }

  /** When the live code expires, or undefined when there is none (used, expired or never issued). */
  expiresAt(): number | undefined {
    const current = this.current;
    return current && current.expiresAt > this.deps.now() ? current.expiresAt : undefined;
  }

  /** The live code itself, for the box's own screen only. */
  code(): string | undefined {
    return this.expiresAt() === undefined ? undefined : this.current?.code;
  }

  /** True once per code: a match ends it. Compared in constant time. */
  consume(presented: string): boolean {
    const current = this.current;
    if (!current || current.expiresAt <= this.deps.now()) return false;
    if (!timingSafeEqual(digest(presented), current.digest)) return false;
    this.withdraw();
    return true;
  }

  withdraw(): void {
    this.current = undefined;
    if (existsSync(this.file)) unlinkSync(this.file);
  }
}

/** What `fieldgate status` shows: the code from the running gateway's file, when it is still valid. */
export function readSetupCode(dir: string, now: number): IssuedSetupCode | undefined {
  const file = join(dir, SETUP_CODE_FILE);
  if (!existsSync(file)) return undefined;
  const issued = JSON.parse(readFileSync(file, 'utf8')) as IssuedSetupCode;
  return Date.parse(issued.expiresAt) > now ? issued : undefined;
}
