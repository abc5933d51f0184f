import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AllowlistStore } from '../../../../main/sensors/ble/allowlist.js';
import { SecretBox } from '../../../../main/sensors/ble/secret-box.js';
import { UserError } from '../../../../main/shared/errors.js';
import { VECTORS } from '../../../fixtures/ble/bthome-seal.js';

const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-allowlist-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `case-${n++}`);
const KEY = Buffer.from(VECTORS.bindKey, 'hex');

describe('SecretBox', () => {
  it('creates its key file 0600 in a 0700 directory and round-trips sealed values', () => {
    const dir = freshDir();
    const box = SecretBox.openOrCreate(dir);
    assert.equal(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'keys', 'allowlist.key')).mode & 0o777, 0o600);
    const sealed = box.seal(KEY, VECTORS.mac);
    assert.ok(!sealed.includes(VECTORS.bindKey) && !sealed.includes(KEY.toString('base64')));
    assert.deepEqual(Buffer.from(SecretBox.openOrCreate(dir).open(sealed, VECTORS.mac)), KEY);
  });

  it('refuses a tampered value, another context, and another key', () => {
    const box = SecretBox.openOrCreate(freshDir());
    const sealed = box.seal(KEY, VECTORS.mac);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    assert.throws(() => box.open(`v1:${raw.toString('base64')}`, VECTORS.mac));
    assert.throws(() => box.open(sealed, 'AA:BB:CC:DD:EE:FF'));
    assert.throws(() => SecretBox.openOrCreate(freshDir()).open(sealed, VECTORS.mac));
  });

  it('refuses a key file others can read', () => {
    const dir = freshDir();
    SecretBox.openOrCreate(dir);
    chmodSync(join(dir, 'keys', 'allowlist.key'), 0o644);
    assert.throws(() => SecretBox.openOrCreate(dir), (error: unknown) => error instanceof UserError && /chmod 600/.test(error.message));
  });
});

describe('AllowlistStore', () => {
  it('persists entries with the bind key sealed, and reloads them', () => {
    const dir = freshDir();
    const store = new AllowlistStore({ dir });
    store.load();
    store.upsert({ mac: VECTORS.mac, id: 'kitchen', name: 'Kitchen', format: 'bthome-v2', bindKey: KEY, addedAt: 1_700_000_000_000 });
    const text = readFileSync(store.file, 'utf8');
    assert.ok(!text.toLowerCase().includes(VECTORS.bindKey), 'bind key stored in plaintext');
    assert.equal(statSync(store.file).mode & 0o777, 0o600);
    const again = new AllowlistStore({ dir });
    again.load();
    assert.deepEqual(Buffer.from(again.get(VECTORS.mac.toLowerCase())?.bindKey ?? []), KEY);
    assert.deepEqual(again.list(), [
      { mac: VECTORS.mac, id: 'kitchen', name: 'Kitchen', format: 'bthome-v2', encrypted: true, addedAt: '2023-11-14T22:13:20.000Z' },
    ]);
  });

  it('picks up changes made by another process, and rejects duplicate sensor ids', () => {
    const dir = freshDir();
    const service = new AllowlistStore({ dir });
    service.load();
    assert.equal(service.refreshIfChanged(), false);
    const cli = new AllowlistStore({ dir });
    cli.load();
    cli.upsert({ mac: 'AA:BB:CC:DD:EE:01', id: 'one', name: 'one', format: 'ruuvi-df5', addedAt: 0 });
    assert.equal(service.refreshIfChanged(), true);
    assert.equal(service.get('AA:BB:CC:DD:EE:01')?.id, 'one');
    assert.throws(() => cli.upsert({ mac: 'AA:BB:CC:DD:EE:02', id: 'one', name: 'two', format: 'ruuvi-df5', addedAt: 0 }), /already used/);
    assert.throws(() => cli.upsert({ mac: 'AA:BB:CC:DD:EE:02', id: 'has space', name: 'two', format: 'ruuvi-df5', addedAt: 0 }), /sensor id "has space"/);
    assert.equal(cli.remove('aa-bb-cc-dd-ee-01'), true);
    assert.equal(service.refreshIfChanged(), true);
    assert.equal(service.get('AA:BB:CC:DD:EE:01'), undefined);
  });

  it('names the problem in a damaged file', () => {
    const dir = freshDir();
    const store = new AllowlistStore({ dir });
    store.load();
    writeFileSync(store.file, JSON.stringify({ version: 1, devices: [{ mac: 'x', id: 'bad id!', name: '', format: 'bthome-v2', addedAt: '' }] }));
    assert.throws(() => store.refreshIfChanged(), (error: unknown) => error instanceof UserError && /devices\.0\.id/.test(error.message));
  });
});
