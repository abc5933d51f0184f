import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPrivate, destroyFile, writePrivateFile } from '../../../main/identity/secure-files.js';

function withTempDir(work: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-secure-files-'));
  try {
    work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('destroyFile overwrites the content before unlinking it', () => {
  withTempDir((dir) => {
    const secret = '-----BEGIN PRIVATE KEY-----\nsecret material\n-----END PRIVATE KEY-----\n';
    const file = join(dir, 'key.pem');
    const witness = join(dir, 'witness');
    writeFileSync(file, secret);
    // A second name for the same inode shows what is left on it after the wipe.
    linkSync(file, witness);
    assert.equal(destroyFile(file), true);
    assert.equal(existsSync(file), false);
    const left = readFileSync(witness);
    assert.equal(left.length, Buffer.byteLength(secret));
    assert.notEqual(left.toString(), secret);
    assert.equal(left.includes('secret material'), false);
    assert.equal(destroyFile(file), false, 'a missing file is not an error');
  });
});

test('writePrivateFile writes mode 0600 and replaces atomically', () => {
  withTempDir((dir) => {
    const file = join(dir, 'key.pem');
    writePrivateFile(file, 'one');
    writePrivateFile(file, 'two');
    assert.equal(readFileSync(file, 'utf8'), 'two');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});

test('assertPrivate refuses group/world access and symlinks, naming the fix', () => {
  withTempDir((dir) => {
    const folder = join(dir, 'identity');
    mkdirSync(folder, { mode: 0o700 });
    const file = join(folder, 'key.pem');
    writeFileSync(file, 'k', { mode: 0o600 });
    assert.doesNotThrow(() => assertPrivate(folder, 'dir'));
    assert.doesNotThrow(() => assertPrivate(file, 'file'));
    writeFileSync(join(dir, 'loose.pem'), 'k', { mode: 0o604 });
    assert.throws(() => assertPrivate(join(dir, 'loose.pem'), 'file'), /\(mode 0604\); refusing to use it\. Fix: chmod 600 /);
    symlinkSync(file, join(dir, 'link.pem'));
    assert.throws(() => assertPrivate(join(dir, 'link.pem'), 'file'), /is a symbolic link/);
    assert.throws(() => assertPrivate(join(dir, 'absent.pem'), 'file'), /does not exist/);
  });
});
