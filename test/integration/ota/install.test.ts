// Staged A/B install with real processes: verify → extract → atomic switch → trial → mark-good
// (through the real CLI) or automatic rollback. Bundles are real, signed by the production code.
import assert from 'node:assert/strict';
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { signKeyset } from '../../../main/ota/publish.js';
import { OtaError, type OtaReason } from '../../../main/ota/reasons.js';
import { bundleBytes, makePublisher, offsetOf, packEntries, releaseEntries } from '../../unit/ota/bundle-factory.js';
import { OtaBox, SCRIPTS } from './fixture.js';

let box: OtaBox;

beforeEach(async () => {
  box = await OtaBox.create();
});

afterEach(async () => {
  await box.dispose();
});

function isReason(reason: OtaReason) {
  return (error: unknown) => {
    assert.ok(error instanceof OtaError, `expected an OtaError, got ${String(error)}`);
    assert.equal(error.code, reason, error.message);
    return true;
  };
}

async function installGood(version: number): Promise<void> {
  const bundle = await box.writeBundle(box.release(version, SCRIPTS.good));
  await box.installer().install(box.open(bundle));
}

async function waitFor(condition: () => Promise<boolean>, what: () => Promise<string>): Promise<void> {
  const until = Date.now() + 90_000;
  while (!(await condition())) {
    if (Date.now() > until) assert.fail(`timed out waiting for: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForDeath(pid: number): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > until) assert.fail(`process ${pid} is still alive`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('OTA install', () => {
  test('installs v1 then v2: extracted files match, current switches, mark-good raises the floor, progress is reported', async () => {
    await installGood(1);
    assert.equal(await box.current(), 'versions/1');
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 });

    const release = box.release(2, SCRIPTS.good, { manifest: { securityCounter: 4 } });
    const bundle = await box.writeBundle(release);
    box.events.length = 0;
    const result = await box.installer().install(box.open(bundle));
    assert.deepEqual(result, { version: 2, label: '1.0.2', previous: 1 });
    assert.equal(await box.current(), 'versions/2');
    assert.deepEqual(await box.floor(), { version: 2, securityCounter: 4 });
    for (const file of release.files) {
      const path = join(box.root, 'versions', '2', file.path);
      assert.deepEqual(await readFile(path), file.data, file.path);
      assert.equal(((await stat(path)).mode & 0o111) !== 0, file.executable === true, `${file.path} executable bit`);
    }
    assert.deepEqual((await readdir(join(box.root, 'versions'))).sort(), ['1', '1.manifest.json', '2', '2.manifest.json']);
    assert.deepEqual(await box.stagingEntries(), []);
    const phases = [...new Set(box.events.map((e) => e.phase))];
    assert.deepEqual(phases, ['check-space', 'extract', 'switch', 'trial', 'done']);
    const total = release.files.reduce((sum, f) => sum + f.data.length, 0);
    assert.equal(box.events.filter((e) => e.phase === 'extract').at(-1)?.bytesHashed, total);
    const time = JSON.parse(await readFile(join(box.root, 'state', 'time.json'), 'utf8')) as { newestIssuedAt: number };
    assert.equal(time.newestIssuedAt, release.envelope.signed.issuedAt);
  });

  test('a new version that never marks good is stopped and rolled back after the deadline; the floor stays', async () => {
    await installGood(1);
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.silent));
    await assert.rejects(box.installer({ markGoodTimeoutMs: 8000 }).install(box.open(bundle)), isReason('mark-good-timeout'));
    assert.equal(await box.current(), 'versions/1');
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 });
    await assert.rejects(lstat(join(box.root, 'versions', '2')), { code: 'ENOENT' });
    assert.equal(await readFile(join(box.root, 'state', 'install.json'), 'utf8').catch(() => 'none'), 'none');
    const log = await readFile(join(box.root, 'state', 'logs', '2.log'), 'utf8');
    const pid = Number(/pid (\d+)/.exec(log)?.[1]);
    assert.ok(pid > 0, `the silent version logged its pid: ${log}`);
    await waitForDeath(pid);
    // The rollback restarted v1, which (being healthy) confirms it is still good.
    const v1log = () => readFile(join(box.root, 'state', 'logs', '1.log'), 'utf8');
    await waitFor(async () => /"outcome": "already-good"/.test(await v1log()), async () => `v1 restarted after rollback; its log: ${await v1log()}`);
  });

  test('a new version that crashes before marking good is rolled back at once', async () => {
    await installGood(1);
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.crash));
    await assert.rejects(box.installer().install(box.open(bundle)), isReason('new-version-exited'));
    assert.equal(await box.current(), 'versions/1');
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 });
    // The same version may be tried again once fixed: the floor was never raised.
    await installGood(2);
    assert.equal(await box.current(), 'versions/2');
  });

  test('refused bundles write nothing outside staging and leave staging empty', async () => {
    await installGood(1);
    const before = await box.snapshotOutsideStaging();
    const good = box.release(2, SCRIPTS.good);
    const flipped = await bundleBytes(good);
    flipped[offsetOf(flipped, good.files[1]!.data) + 1000]! ^= 0x80;
    const cases: Array<[OtaReason, Buffer]> = [
      ['file-hash-mismatch', flipped],
      ['version-not-newer', await bundleBytes(box.release(1, SCRIPTS.good))],
      ['expired', await bundleBytes(box.release(2, SCRIPTS.good, { manifest: { issuedAt: 1_600_000_000, expiresAt: 1_600_086_400 } }))],
      ['model-mismatch', await bundleBytes(box.release(2, SCRIPTS.good, { manifest: { targets: { models: ['other'], archs: ['arm64'] } } }))],
      ['signature-threshold', await bundleBytes(box.release(2, SCRIPTS.good, { signers: box.publisher.keys.slice(0, 1) }))],
      ['archive-path-traversal', await packEntries([...releaseEntries(good), { header: { name: 'payload/../../../escape', type: 'file' }, data: Buffer.from('x') }])],
      ['file-extra', await packEntries([...releaseEntries(good), { header: { name: 'payload/extra', type: 'file' }, data: Buffer.from('x') }])],
    ];
    for (const [reason, bytes] of cases) {
      const bundle = await box.writeBundle(good, `${reason}.tar`, bytes);
      await assert.rejects(box.installer().install(box.open(bundle)), isReason(reason));
      assert.deepEqual(await box.snapshotOutsideStaging(), before, `${reason} changed something outside staging`);
      assert.deepEqual(await box.stagingEntries(), [], `${reason} left staging dirty`);
    }
    assert.equal(await box.current(), 'versions/1');
  });

  test('not enough disk space is refused before anything is extracted', async () => {
    await installGood(1);
    const before = await box.snapshotOutsideStaging();
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.good));
    await assert.rejects(box.installer({ reserveBytes: 2 ** 52 }).install(box.open(bundle)), isReason('insufficient-disk-space'));
    assert.deepEqual(await box.snapshotOutsideStaging(), before);
    assert.deepEqual(await box.stagingEntries(), []);
  });

  test('a key rotation is persisted only after mark-good; afterwards the old keys are refused and the new ones work', async () => {
    await installGood(1);
    const next = makePublisher(2, 1, 2);
    const rotation = signKeyset(next.keyset, box.publisher.keys.slice(0, 2));
    const rotating = await box.writeBundle(box.release(2, SCRIPTS.good, { signers: next.keys.slice(0, 1), rotation }));
    await box.installer().install(box.open(rotating));
    const persisted = JSON.parse(await readFile(join(box.root, 'state', 'keyset.json'), 'utf8')) as { version: number };
    assert.equal(persisted.version, 2);

    const oldSigned = await box.writeBundle(box.release(3, SCRIPTS.good));
    await assert.rejects(box.installer().install(box.open(oldSigned)), isReason('signature-unknown-key'));
    const newSigned = await box.writeBundle(box.release(3, SCRIPTS.good, { signers: next.keys.slice(0, 1) }));
    await box.installer().install(box.open(newSigned));
    assert.equal(await box.current(), 'versions/3');
  });

  test('a rotation whose version fails its trial is not persisted', async () => {
    await installGood(1);
    const next = makePublisher(2, 1, 2);
    const rotation = signKeyset(next.keyset, box.publisher.keys.slice(0, 2));
    const rotating = await box.writeBundle(box.release(2, SCRIPTS.crash, { signers: next.keys.slice(0, 1), rotation }));
    await assert.rejects(box.installer().install(box.open(rotating)), isReason('new-version-exited'));
    await assert.rejects(lstat(join(box.root, 'state', 'keyset.json')), { code: 'ENOENT' });
  });
});
