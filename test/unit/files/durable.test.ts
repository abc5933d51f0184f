import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writePrivateFile } from '../../../main/identity/secure-files.js';
import { createFileDurablySync, writeFileDurablySync } from '../../../main/files/durable.js';
import { AllowlistStore } from '../../../main/sensors/ble/allowlist.js';
import { SecretBox } from '../../../main/sensors/ble/secret-box.js';

const root = mkdtempSync(join(tmpdir(), 'fieldgate-durable-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => {
  const dir = join(root, `case-${n++}`);
  mkdirSync(dir);
  return dir;
};

/**
 * The old temp names were `<file>.tmp-<pid>`, opened with 'w': whoever could write the folder could
 * plant a symlink there and have the next write land in a file of its choosing.
 */
function plantAtOldTempName(file: string): string {
  const victim = join(root, `victim-${n++}`);
  writeFileSync(victim, 'victim\n');
  symlinkSync(victim, `${file}.tmp-${process.pid}`);
  return victim;
}

describe('durable file writes', () => {
  it('writeFileDurablySync replaces the file whole, with the mode given, and leaves no temp file', () => {
    const dir = freshDir();
    const file = join(dir, 'state.json');
    writeFileDurablySync(file, 'one', 0o600);
    writeFileDurablySync(file, 'two', 0o600);
    assert.equal(readFileSync(file, 'utf8'), 'two');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  it('createFileDurablySync creates once and never replaces what is there', () => {
    const dir = freshDir();
    const file = join(dir, 'key');
    assert.equal(createFileDurablySync(file, 'first', 0o600), true);
    assert.equal(createFileDurablySync(file, 'second', 0o600), false);
    assert.equal(readFileSync(file, 'utf8'), 'first');
    assert.deepEqual(readdirSync(dir), ['key']);
  });

  it('identity files and the BLE allowlist do not follow a symlink planted at the old temp name', () => {
    const dir = freshDir();
    const keyFile = join(dir, 'device.key');
    const victimOfKey = plantAtOldTempName(keyFile);
    writePrivateFile(keyFile, 'secret key material\n');
    assert.equal(readFileSync(victimOfKey, 'utf8'), 'victim\n');
    assert.equal(readFileSync(keyFile, 'utf8'), 'secret key material\n');

    const bleDir = join(dir, 'ble');
    const store = new AllowlistStore({ dir: bleDir });
    store.load();
    const victimOfAllowlist = plantAtOldTempName(store.file);
    store.upsert({ mac: 'A4:C1:38:00:00:01', id: 'plain', name: 'plain', format: 'bthome-v2', addedAt: 0 });
    assert.equal(readFileSync(victimOfAllowlist, 'utf8'), 'victim\n');
    assert.match(readFileSync(store.file, 'utf8'), /"id": "plain"/);
  });

  it('the BLE sealing key is created whole and kept by a second opener', () => {
    const dir = freshDir();
    const sealed = SecretBox.openOrCreate(dir).seal(Buffer.from('bind key'), 'mac');
    const keyFile = join(dir, 'keys', 'allowlist.key');
    assert.equal(statSync(keyFile).size, 32);
    assert.equal(Buffer.from(SecretBox.openOrCreate(dir).open(sealed, 'mac')).toString(), 'bind key');
    assert.deepEqual(readdirSync(join(dir, 'keys')), ['allowlist.key']);
  });
});
