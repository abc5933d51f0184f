import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigConflictError, ConfigDocument, versionOf } from '../../../main/config/document.js';
import { ConfigError } from '../../../main/shared/errors.js';

const ORIGINAL = [
  '# fieldgate on the roof',
  'gateway:',
  '  # must match the certificate CN',
  '  id: gw-1',
  '  dataDir: data',
  'sensors:',
  '  sim:',
  '    - id: t1 # the first one',
  '      rate: 2',
  'ui:',
  '  port: 8080 # loopback',
  '',
].join('\n');

function fixture(t: { after(fn: () => void): void }, text = ORIGINAL): { file: string; document: ConfigDocument; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-doc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, text, { mode: 0o640 });
  return { file, dir, document: new ConfigDocument({ file, env: {} }) };
}

test('an edit keeps comments and key order, keeps the previous file as .bak and changes the version', async (t) => {
  const { file, dir, document } = fixture(t);
  const before = await document.read();
  assert.equal(before.version, versionOf(ORIGINAL));
  const after = await document.update(
    [
      { path: ['sensors', 'sim', 1], value: { id: 't2', rate: 5 } },
      { path: ['ui', 'port'], value: 9090 },
    ],
    before.version,
  );
  const text = readFileSync(file, 'utf8');
  for (const comment of ['# fieldgate on the roof', '# must match the certificate CN', '# the first one', '# loopback']) {
    assert.ok(text.includes(comment), `lost "${comment}" in:\n${text}`);
  }
  assert.ok(text.indexOf('gateway:') < text.indexOf('sensors:') && text.indexOf('sensors:') < text.indexOf('ui:'), text);
  assert.match(text, /port: 9090 # loopback/);
  assert.deepEqual(after.config.sensors.sim.map((s) => [s.id, s.rate]), [['t1', 2], ['t2', 5]]);
  assert.equal(after.config.ui.port, 9090);
  assert.equal(after.version, versionOf(text));
  assert.notEqual(after.version, before.version);
  assert.equal(readFileSync(`${file}.bak`, 'utf8'), ORIGINAL);
  assert.equal(statSync(file).mode & 0o777, 0o640, 'the new file keeps the old permissions');
  assert.deepEqual(readdirSync(dir).sort(), ['fieldgate.yaml', 'fieldgate.yaml.bak'], 'no temp files left behind');
});

test('a section replaced whole keeps the comments of the keys that stay and drops the keys that go', async (t) => {
  const { file, document } = fixture(t);
  const { version } = await document.read();
  await document.update([{ path: ['gateway'], value: { id: 'gw-2' } }], version).then(
    () => assert.fail('gateway.dataDir is required'),
    (error: unknown) => assert.ok(error instanceof ConfigError),
  );
  await document.update([{ path: ['gateway'], value: { id: 'gw-2', dataDir: 'other' } }], version);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /# must match the certificate CN\n {2}id: gw-2\n {2}dataDir: other\n/);
});

test('a removed list entry goes, its neighbours stay', async (t) => {
  const { document } = fixture(t);
  const first = await document.update([{ path: ['sensors', 'sim', 1], value: { id: 't2' } }], (await document.read()).version);
  const second = await document.update([{ path: ['sensors', 'sim', 0], remove: true }], first.version);
  assert.deepEqual(second.config.sensors.sim.map((s) => s.id), ['t2']);
  await assert.rejects(document.update([{ path: ['cloud'], remove: true }], second.version), /"cloud": nothing to remove there/);
});

test('an invalid edit is refused with the key named as config check names it, and the file is untouched', async (t) => {
  const { file, document } = fixture(t);
  const { version } = await document.read();
  await assert.rejects(
    document.update([{ path: ['sensors', 'sim', 0, 'rate'], value: -1 }, { path: ['ui', 'prot'], value: 1 }], version),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.problems.some((p) => p.startsWith('"sensors.sim.0.rate": ')), error.message);
      assert.ok(error.problems.includes('"ui.prot": unknown key; did you mean "port"?'), error.message);
      return true;
    },
  );
  await assert.rejects(document.update([{ path: ['sensors', 'sim', 5], value: { id: 'x' } }], version), /"sensors\.sim\.5": expected a list index from 0 to 1/);
  assert.equal(readFileSync(file, 'utf8'), ORIGINAL);
  assert.throws(() => statSync(`${file}.bak`), /ENOENT/);
});

test('a stale version is refused with a conflict, and a hand edit makes the old version stale too', async (t) => {
  const { file, document } = fixture(t);
  const { version } = await document.read();
  const [first, second] = await Promise.allSettled([
    document.update([{ path: ['ui', 'port'], value: 1111 }], version),
    document.update([{ path: ['ui', 'port'], value: 2222 }], version),
  ]);
  assert.equal(first.status, 'fulfilled');
  assert.equal(second.status, 'rejected');
  assert.ok(second.reason instanceof ConfigConflictError);
  assert.equal(second.reason.currentVersion, (first as PromiseFulfilledResult<{ version: string }>).value.version);
  assert.match(readFileSync(file, 'utf8'), /port: 1111/);

  const current = (await document.read()).version;
  writeFileSync(file, readFileSync(file, 'utf8').replace('rate: 2', 'rate: 3'));
  await assert.rejects(document.update([{ path: ['ui', 'port'], value: 3333 }], current), ConfigConflictError);
  assert.match(readFileSync(file, 'utf8'), /rate: 3/);
});

test('effective config has env overrides and resolved paths; the document is the file as written', async (t) => {
  const { dir, file } = fixture(t);
  const document = new ConfigDocument({ file, env: { FIELDGATE__UI__PORT: '7070' } });
  const snapshot = await document.read();
  assert.equal(snapshot.config.ui.port, 7070);
  assert.equal(snapshot.config.gateway.dataDir, join(dir, 'data'));
  assert.deepEqual((snapshot.document as { ui: unknown }).ui, { port: 8080 });
});
