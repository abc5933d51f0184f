// Power loss (SIGKILL of a real `fieldgate ota install` child) at each dangerous step, recovery
// with `fieldgate ota recover`, and the publisher/operator CLI end to end.
import assert from 'node:assert/strict';
import { lstat, readdir, readFile, stat, writeFile, mkdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { markGoodAfterHealthChecks } from '../../../main/ota/mark-good.js';
import { systemClock } from '../../../main/shared/clock.js';
import { CLI, OtaBox, SCRIPTS, installAndKillAt, runCli } from './fixture.js';
import { ARCH, MODEL } from '../../unit/ota/bundle-factory.js';

let box: OtaBox;

beforeEach(async () => {
  box = await OtaBox.create();
  await box.installer().install(box.open(await box.writeBundle(box.release(1, SCRIPTS.good))));
});

afterEach(async () => {
  await box.dispose();
});

async function recover(): Promise<string> {
  const run = await runCli(['ota', 'recover', '--root', box.root]);
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as { outcome: string }).outcome;
}

describe('OTA power loss', () => {
  test('SIGKILL during extract: nothing changed outside staging; recover cleans staging; the install then succeeds', async () => {
    const before = await box.snapshotOutsideStaging();
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.good));
    await installAndKillAt(box, bundle, 'extract');
    assert.deepEqual(await box.snapshotOutsideStaging(), before);
    assert.ok((await box.stagingEntries()).length > 0, 'the killed install left partial files in staging');
    assert.equal(await recover(), 'clean');
    assert.deepEqual(await box.stagingEntries(), []);
    assert.equal(await box.current(), 'versions/1');
    await box.installer().install(box.open(bundle));
    assert.equal(await box.current(), 'versions/2');
  });

  test('SIGKILL between the temp symlink and the rename: current still points at v1; recover rolls back and tidies', async () => {
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.good));
    await installAndKillAt(box, bundle, 'switch');
    assert.equal(await box.current(), 'versions/1');
    assert.ok((await readdir(box.root)).some((name) => name.startsWith('current.tmp-')), 'temp symlink left behind');
    assert.equal(await recover(), 'rolled-back');
    assert.ok(!(await readdir(box.root)).some((name) => name.startsWith('current.tmp-')));
    await assert.rejects(lstat(join(box.root, 'versions', '2')), { code: 'ENOENT' });
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 });
    await box.installer().install(box.open(bundle));
    assert.equal(await box.current(), 'versions/2');
  });

  test('SIGKILL right after the switch, before the trial: recover switches back to v1 and keeps the floor', async () => {
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.good));
    await installAndKillAt(box, bundle, 'switched');
    assert.equal(await box.current(), 'versions/2');
    assert.equal(await recover(), 'rolled-back');
    assert.equal(await box.current(), 'versions/1');
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 });
    const status = await runCli(['ota', 'status', '--root', box.root]);
    const parsed = JSON.parse(status.stdout) as { current: number; installed: number[]; pending: unknown };
    assert.deepEqual([parsed.current, parsed.installed, parsed.pending], [1, [1], null]);
  });
});

describe('OTA power loss during the trial', () => {
  test('installer killed during the trial: a later mark-good by the new version commits the install itself', async () => {
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.good, { manifest: { securityCounter: 3 } }));
    await installAndKillAt(box, bundle, 'trial');
    assert.equal(await box.current(), 'versions/2');
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 }, 'not raised before mark-good');
    const run = await runCli(['ota', 'mark-good'], { FIELDGATE_OTA_ROOT: box.root, FIELDGATE_OTA_VERSION: '2' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { outcome: string }).outcome, 'committed');
    assert.deepEqual(await box.floor(), { version: 2, securityCounter: 3 });
    assert.equal(await recover(), 'clean');
    assert.equal(await box.current(), 'versions/2');
  });

  test('a service started by systemd through `current` finds its own version and commits the trial', async () => {
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.good));
    await installAndKillAt(box, bundle, 'trial');
    const outside = await markGoodAfterHealthChecks({ clock: systemClock, root: box.root, env: {}, scriptPath: CLI });
    assert.equal(outside, undefined, 'a process outside the OTA slots does not mark anything');
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 });
    const outcome = await markGoodAfterHealthChecks({ clock: systemClock, root: box.root, env: {}, scriptPath: join(box.root, 'current', 'bin', 'start.js') });
    assert.equal(outcome, 'committed');
    assert.deepEqual(await box.floor(), { version: 2, securityCounter: 1 });
  });

  test('installer killed during the trial and nothing marks good: recover rolls back; a late mark-good is refused', async () => {
    const bundle = await box.writeBundle(box.release(2, SCRIPTS.good));
    await installAndKillAt(box, bundle, 'trial');
    assert.equal(await recover(), 'rolled-back');
    assert.equal(await box.current(), 'versions/1');
    const late = await runCli(['ota', 'mark-good', '--root', box.root, '--bundle-version', '2']);
    assert.notEqual(late.code, 0);
    assert.match(late.stderr, /not on trial/);
    assert.deepEqual(await box.floor(), { version: 1, securityCounter: 1 });
  });
});

describe('OTA CLI', () => {
  test('keygen → keyset → sign → verify → install, with 0600 keys and machine-readable refusals', async () => {
    const keyA = join(box.dir, 'a.key');
    const keyB = join(box.dir, 'b.key');
    for (const key of [keyA, keyB]) {
      const run = await runCli(['ota', 'keygen', '--out', key]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await stat(key)).mode & 0o777, 0o600);
    }
    const again = await runCli(['ota', 'keygen', '--out', keyA]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);

    const keyset = await runCli(['ota', 'keyset', '--threshold', '2', '--set-version', '1', keyA, keyB]);
    assert.equal(keyset.code, 0, keyset.stderr);
    const keysFile = join(box.dir, 'cli-keys.json');
    await writeFile(keysFile, keyset.stdout);

    const payload = join(box.dir, 'payload');
    await mkdir(join(payload, 'bin'), { recursive: true });
    await writeFile(join(payload, 'bin', 'start.js'), SCRIPTS.good);
    await chmod(join(payload, 'bin', 'start.js'), 0o755);
    await writeFile(join(payload, 'package.json'), '{"type":"commonjs"}\n');
    const bundle = join(box.dir, 'cli-v5.tar.gz');
    const signArgs = ['ota', 'sign', '--payload', payload, '--bundle-version', '5', '--label', '5.0.0', '--security-counter', '2'];
    const sign = await runCli([...signArgs, '--model', MODEL, '--arch', ARCH, '--entrypoint', 'bin/start.js', '--key', keyA, '--key', keyB, '--gzip', '--out', bundle]);
    assert.equal(sign.code, 0, sign.stderr);

    const device = ['--root', box.root, '--keys', keysFile, '--model', MODEL, '--arch', ARCH];
    const verify = await runCli(['ota', 'verify', bundle, ...device]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { version: number }).version, 5);

    const wrongArch = await runCli(['ota', 'verify', bundle, ...device.slice(0, -1), 'riscv64']);
    assert.equal(wrongArch.code, 3);
    assert.equal((JSON.parse(wrongArch.stdout) as { reason: string }).reason, 'arch-mismatch');
    assert.equal(wrongArch.stderr.trim().split('\n').length, 1);
    assert.match(wrongArch.stderr, /^fieldgate: ota verify: arch-mismatch: /);

    const bytes = await readFile(bundle);
    const corrupt = join(box.dir, 'corrupt.tar.gz');
    await writeFile(corrupt, bytes.subarray(0, bytes.length - 20));
    const truncated = await runCli(['ota', 'verify', corrupt, ...device]);
    assert.equal(truncated.code, 3);
    assert.equal((JSON.parse(truncated.stdout) as { reason: string }).reason, 'archive-truncated');

    const install = await runCli(['ota', 'install', bundle, ...device, '--progress']);
    assert.equal(install.code, 0, install.stderr);
    assert.match(install.stderr, /"phase":"trial"/);
    assert.equal(await box.current(), 'versions/5');
    assert.deepEqual(await box.floor(), { version: 5, securityCounter: 2 });
  });

  test('sign refuses a key file readable by others', async () => {
    const key = join(box.dir, 'loose.key');
    assert.equal((await runCli(['ota', 'keygen', '--out', key])).code, 0);
    await chmod(key, 0o644);
    const run = await runCli(['ota', 'rotate', '--keyset', box.keysFile, '--key', key, '--out', join(box.dir, 'rot.json')]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /chmod 600/);
  });
});
