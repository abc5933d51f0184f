// Builds the headless .deb, checks it with lintian, and installs, upgrades, removes and purges it
// for real in a throwaway Debian root (mmdebstrap from Debian's packages, then chroot). Minutes, not
// seconds: it runs in its own CI step (`npm run test:packaging`), and is skipped by `npm test`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** Debian 13: its nodejs is 20.19 (Debian 12's is 18, too old for fieldgate). */
const SUITE = 'trixie';
const MIRROR = 'http://deb.debian.org/debian';
/** The package's Depends are preinstalled so `dpkg -i` needs no network; udev for `udevadm verify`. */
const ROOT_PACKAGES = ['nodejs', 'adduser', 'procps', 'systemd', 'udev', 'ca-certificates'];
const CONFIG = '/var/lib/fieldgate/config/fieldgate.yaml';

const enabled = process.env.FIELDGATE_PACKAGE_TEST === '1';
const missing = ['/usr/bin/mmdebstrap', '/usr/bin/lintian', '/usr/bin/dpkg-deb', '/usr/bin/unshare'].filter((tool) => !existsSync(tool));
const skip = !enabled
  ? 'runs in its own CI step: npm run test:packaging'
  : process.getuid?.() !== 0
    ? 'needs root (chroot, mount)'
    : missing.length > 0
      ? `missing ${missing.join(', ')}`
      : false;

let work = '';
let deb = '';
let root = '';

/** The minbase root as a tarball, made once and cached by suite and package list. */
function debianRootTarball(): string {
  const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fieldgate');
  const key = createHash('sha256').update(`${SUITE} ${ROOT_PACKAGES.join(',')}`).digest('hex').slice(0, 12);
  const tarball = join(cacheDir, `debian-${SUITE}-${key}.tar`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${tarball}.partial`;
  execFileSync('mmdebstrap', ['--format=tar', '--variant=minbase', `--include=${ROOT_PACKAGES.join(',')}`, SUITE, partial, MIRROR], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(partial, tarball);
  return tarball;
}

/** Runs a command inside the root, with /proc mounted in a private mount namespace (gone when it exits). */
function inRoot(...command: string[]) {
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"', root, ...command], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function inRootOk(...command: string[]): string {
  const result = inRoot(...command);
  assert.equal(result.status, 0, `${command.join(' ')} failed:\n${result.output}`);
  return result.output;
}

const present = (path: string) => existsSync(join(root, path));

before(
  () => {
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), 'fieldgate-deb-test-'));
    deb = execFileSync(process.execPath, [join(REPO, 'scripts/package-deb.mjs'), '--out', join(work, 'out')], { encoding: 'utf8' }).trim();
    root = join(work, 'root');
    mkdirSync(root);
    execFileSync('tar', ['-C', root, '-xf', debianRootTarball()]);
    execFileSync('cp', [deb, join(root, 'tmp/fieldgate.deb')]);
  },
  { timeout: 30 * 60_000 },
);

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('lintian reports no errors on the package', { skip }, () => {
  const result = spawnSync('lintian', ['--no-tag-display-limit', deb], { encoding: 'utf8' });
  const errors = result.stdout.split('\n').filter((line) => line.startsWith('E: '));
  assert.deepEqual(errors, []);
  assert.ok(result.status === 0 || result.status === 2, `lintian exited ${result.status}: ${result.stderr}`);
});

test('every binary in the package is built for its architecture', { skip }, () => {
  const extracted = join(work, 'extracted');
  execFileSync('dpkg-deb', ['-x', deb, extracted]);
  const arch = execFileSync('dpkg-deb', ['-f', deb, 'Architecture'], { encoding: 'utf8' }).trim();
  const expected = { amd64: 62, arm64: 183, armhf: 40 }[arch];
  assert.ok(expected, `unexpected architecture ${arch}`);
  const files = readdirSync(extracted, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  const machines = new Map<string, number>();
  for (const entry of files) {
    const head = readFileSync(join(entry.parentPath, entry.name)).subarray(0, 20);
    if (head.length === 20 && head.readUInt32BE(0) === 0x7f454c46) machines.set(join(entry.parentPath, entry.name), head.readUInt16LE(18));
  }
  assert.ok([...machines.keys()].some((file) => file.endsWith('better_sqlite3.node')), 'the SQLite addon is in the package');
  assert.deepEqual([...machines].filter(([, machine]) => machine !== expected), []);
});

test('installing creates the user, puts the system files in place, and waits for a config', { skip }, () => {
  const output = inRootOk('dpkg', '-i', '/tmp/fieldgate.deb');
  assert.match(output, /installed and enabled, but not started/);
  assert.match(output, /sudo install -o fieldgate -g fieldgate -m 0600 \/usr\/share\/fieldgate\/fieldgate.yaml/);

  assert.match(inRootOk('id', '-nG', 'fieldgate'), /\bdialout\b/);
  assert.match(inRootOk('getent', 'passwd', 'fieldgate'), /^fieldgate:x:\d+:\d+::\/var\/lib\/fieldgate:\/usr\/sbin\/nologin$/m);
  for (const file of [
    'usr/bin/fieldgate',
    'usr/lib/systemd/system/fieldgate.service',
    'usr/lib/udev/rules.d/99-fieldgate-serial.rules',
    'usr/lib/tmpfiles.d/fieldgate.conf',
    'usr/share/dbus-1/system.d/fieldgate-bluez.conf',
    'usr/share/fieldgate/fieldgate.yaml',
  ]) {
    assert.ok(present(file), `${file} is installed`);
  }
  // tmpfiles made the state folders, owned by the service user and private to it.
  assert.equal(inRootOk('stat', '-c', '%U %a', '/var/lib/fieldgate/config').trim(), 'fieldgate 700');
  assert.equal(inRootOk('systemctl', 'is-enabled', 'fieldgate').trim(), 'enabled');
  inRootOk('systemd-analyze', 'verify', '/usr/lib/systemd/system/fieldgate.service');
  inRootOk('udevadm', 'verify', '/usr/lib/udev/rules.d/99-fieldgate-serial.rules');
});

test('fieldgate runs inside the root on its Node: config check of the starter config, installed as the next step says', { skip }, () => {
  assert.match(inRootOk('fieldgate', 'config', 'check', '/usr/share/fieldgate/fieldgate.yaml'), /OK \(gateway "gw-0001"\)/);
  inRootOk('install', '-o', 'fieldgate', '-g', 'fieldgate', '-m', '0600', '/usr/share/fieldgate/fieldgate.yaml', CONFIG);
  // The default file is the one the unit reads.
  assert.match(inRootOk('fieldgate', 'config', 'check'), /fieldgate.yaml: OK/);
});

test('an upgrade (the same package again) keeps the config and, with a valid one, prints no set-up step', { skip }, () => {
  const output = inRootOk('dpkg', '-i', '/tmp/fieldgate.deb');
  assert.doesNotMatch(output, /not started/);
  assert.ok(present(CONFIG.slice(1)));
});

test('remove stops and disables the service but keeps the state; purge says what it deletes, then deletes it', { skip }, () => {
  inRootOk('dpkg', '-r', 'fieldgate');
  for (const file of ['usr/bin/fieldgate', 'usr/lib/systemd/system/fieldgate.service', 'usr/share/dbus-1/system.d/fieldgate-bluez.conf', 'etc/systemd/system/multi-user.target.wants/fieldgate.service']) {
    assert.ok(!present(file), `${file} is gone after remove`);
  }
  assert.ok(present(CONFIG.slice(1)), 'remove keeps the config and the buffer');
  inRootOk('getent', 'passwd', 'fieldgate');

  const output = inRootOk('dpkg', '-P', 'fieldgate');
  assert.match(output, /purge deletes \/var\/lib\/fieldgate: the config, the buffer with any readings not yet delivered, the device identity/);
  assert.ok(!present('var/lib/fieldgate'), 'purge deleted the state directory');
  assert.match(output, /the system user 'fieldgate' is kept/);
});
