import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ApiError, PASSWORD_MIN_LENGTH } from '../shared/api.js';

// scrypt with N=2^15, r=8, p=1 (about 32 MiB and tens of milliseconds per hash on a Pi 4).
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_BYTES = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;

/** A hash to verify against when the account does not exist, so timing does not tell names apart. */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

// The most common passwords of the breach lists that are 12 characters or longer, plus the
// product's own names; checked case-insensitively.
const COMMON_PASSWORDS = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789123',
  '111111111111',
  '000000000000',
  '123123123123',
  'qwertyuiopas',
  'qwertyuiop123',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'qazwsxedcrfv',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'administrator',
  'administrator1',
  'adminadminadmin',
  'adminpassword',
  'admin1234567',
  'letmein12345',
  'welcome12345',
  'iloveyou1234',
  'changeme1234',
  'changemenow!',
  'abcdefghijkl',
  'abc123abc123',
  'aaaaaaaaaaaa',
  'trustno1trustno1',
  'fieldgate123',
  'fieldgate1234',
  'fieldgateadmin',
  'raspberrypi1',
  'raspberrypi123',
  'technician123',
]);

/** Refuses a new password that is too short, all one character, on the common list or the user name. */
export function checkNewPassword(password: string, username: string): void {
  const lower = password.toLowerCase();
  const refuse = (message: string) => {
    throw new ApiError('bad-request', message, { field: 'password', hint: 'use a passphrase of several unrelated words' });
  };
  if (password.length < PASSWORD_MIN_LENGTH) refuse(`the password needs at least ${PASSWORD_MIN_LENGTH} characters`);
  if (COMMON_PASSWORDS.has(lower) || /^(.)\1*$/.test(password)) refuse('this password is on the list of common passwords');
  if (lower.includes(username.toLowerCase()) && username.length >= 4) refuse('the password must not contain the user name');
}
