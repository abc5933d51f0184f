import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createFileDurablySync } from '../../files/durable.js';
import { UserError } from '../../shared/errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'v1:';

/**
 * AES-256-GCM for bind keys at rest. The 32-byte key lives in `<dir>/keys/allowlist.key`
 * (directory 0700, file 0600, created on first use).
 *
 * What this protects against: the allowlist file leaking on its own (backups, support bundles,
 * copying it to another box, a config export, a world-readable data dir). It does NOT protect
 * against someone who can read the key file as well, i.e. root or the gateway's own user.
 * Each sealed value is bound to its MAC (GCM additional data), so entries cannot be swapped.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static openOrCreate(dir: string): SecretBox {
    const keyDir = join(dir, 'keys');
    mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    chmodSync(keyDir, 0o700);
    const file = join(keyDir, 'allowlist.key');
    // Written whole and fsynced under a temporary name, then linked in: a crash never leaves a
    // short key (which would make every sealed bind key unreadable), and a racing process keeps its own.
    if (!existsSync(file)) createFileDurablySync(file, randomBytes(KEY_BYTES), 0o600);
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new UserError(`${file} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
    }
    const key = readFileSync(file);
    if (key.length !== KEY_BYTES) throw new UserError(`${file}: expected a ${KEY_BYTES}-byte key, found ${key.length} bytes`);
    return new SecretBox(key);
  }

  seal(plaintext: Uint8Array, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Throws when the value was tampered with, sealed for another context, or under another key. */
  open(sealed: string, context: string): Uint8Array {
    if (!sealed.startsWith(PREFIX)) throw new Error('unsupported sealed value');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Uint8Array.from(Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]));
  }
}
