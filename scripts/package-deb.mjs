#!/usr/bin/env node
// Builds the headless Debian package from the compiled tree (run `npm run build` first):
//   node scripts/package-deb.mjs [--out DIR]                  -> DIR/fieldgate_<version>_<arch>.deb
//   node scripts/package-deb.mjs --electron-scripts DIR       -> the Electron .deb's maintainer scripts
// The package is for this machine's architecture only: the native modules in node_modules were built
// here, for this Node. arm64 and armhf packages are built the same way on such a box or CI runner.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const APP_DIR = 'usr/lib/fieldgate';
/** Node's process.arch -> Debian architecture, and the ELF e_machine its binaries carry. */
const ARCHES = { x64: { deb: 'amd64', elfMachine: 62 }, arm64: { deb: 'arm64', elfMachine: 183 }, arm: { deb: 'armhf', elfMachine: 40 } };
/** Where systemd, udev, tmpfiles and D-Bus look for packaged (not admin-edited) files. */
const SYSTEM_FILES = [
  ['fieldgate.service', 'usr/lib/systemd/system/fieldgate.service'],
  ['99-fieldgate-serial.rules', 'usr/lib/udev/rules.d/99-fieldgate-serial.rules'],
  ['fieldgate.tmpfiles.conf', 'usr/lib/tmpfiles.d/fieldgate.conf'],
  ['fieldgate-bluez.conf', 'usr/share/dbus-1/system.d/fieldgate-bluez.conf'],
  ['fieldgate.starter.yaml', 'usr/share/fieldgate/fieldgate.yaml'],
  ['fieldgate.example.yaml', 'usr/share/fieldgate/fieldgate.example.yaml'],
];

function fail(message) {
  process.stderr.write(`package-deb: ${message}\n`);
  process.exit(1);
}

/** A maintainer script: the entry's shebang, the shared functions, then the entry. */
function maintainerScript(entryFile) {
  const [shebang, ...entry] = readFileSync(join(ROOT, entryFile), 'utf8').split('\n');
  return [shebang, readFileSync(join(ROOT, 'packaging/deb/maintainer-common.sh'), 'utf8'), ...entry].join('\n');
}

function writeExecutable(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

/**
 * Whether a package's file is needed at run time: of prebuilt binaries only this platform's (glibc);
 * of a native addon (binding.gyp) the built module, not its C sources or object files.
 */
function fileNeeded(relativePath, native, nodeArch) {
  const parts = relativePath.split(sep);
  // Dot files (.eslintrc, .npmignore, .github) and shell scripts are development files; Node runs neither.
  if (parts.some((part) => part.startsWith('.')) || relativePath.endsWith('.sh')) return false;
  // .bare files are for the Bare runtime, which some stream packages also support; Node never loads them.
  if (parts[0] === 'prebuilds' && parts.length > 1) return parts[1] === `linux-${nodeArch}` && !relativePath.includes('musl') && !relativePath.endsWith('.bare');
  if (!native) return true;
  if (['src', 'deps', 'binding.gyp'].includes(parts[0])) return false;
  if (parts[0] === 'build') return parts.length <= 2 || (parts[1] === 'Release' && parts.length === 3 && parts[2].endsWith('.node') && !parts[2].startsWith('test_'));
  return true;
}

/** The production dependency tree from the lockfile (what `npm ci --omit=dev` installs), copied from node_modules. */
function copyProductionModules(appDir, nodeArch) {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  // driver.ts loads better-sqlite3 12 below Node 22 and the node22 line from 22 on: ship the one this Node loads.
  const otherSqlite = Number(process.versions.node.split('.')[0]) >= 22 ? 'node_modules/better-sqlite3' : 'node_modules/better-sqlite3-node22';
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.dev || key === otherSqlite || key.startsWith(`${otherSqlite}/`)) continue;
    const source = join(ROOT, key);
    if (!existsSync(source)) {
      if (entry.optional) continue;
      fail(`${key} is in the lockfile but not installed: run npm ci first`);
    }
    const native = existsSync(join(source, 'binding.gyp'));
    cpSync(source, join(appDir, key), {
      recursive: true,
      dereference: true,
      filter: (path) => {
        const inner = relative(source, path);
        if (inner === '') return true;
        if (inner.split(sep)[0] === 'node_modules') return false;
        return fileNeeded(inner, native, nodeArch);
      },
    });
  }
}

/** Refuses a package with a binary for another architecture (an x64 .node in an arm package). */
function checkBinaries(root, elfMachine) {
  const binaries = walk(root).filter((file) => {
    const head = readFileSync(file).subarray(0, 20);
    return head.length === 20 && head.readUInt32BE(0) === 0x7f454c46;
  });
  for (const file of binaries) {
    const machine = readFileSync(file).readUInt16LE(18);
    if (machine !== elfMachine) fail(`${relative(root, file)} is built for ELF machine ${machine}, not ${elfMachine}`);
  }
  return binaries;
}

/** Depends for the shared libraries the native modules link (libc6, libstdc++6, …), from dpkg-shlibdeps. */
function sharedLibraryDepends(root, binaries) {
  const work = mkdtempSync(join(tmpdir(), 'fieldgate-shlibdeps-'));
  try {
    mkdirSync(join(work, 'debian'));
    writeFileSync(join(work, 'debian/control'), 'Source: fieldgate\n\nPackage: fieldgate\nArchitecture: any\n');
    const out = execFileSync('dpkg-shlibdeps', ['-O', '--warnings=0', ...binaries.map((file) => resolve(root, file))], { cwd: work, encoding: 'utf8' });
    return /shlibs:Depends=(.*)/.exec(out)?.[1]?.split(', ') ?? [];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function buildDeb(outDir) {
  if (!existsSync(join(ROOT, 'dist/main/cli.js'))) fail('dist/main/cli.js is missing: run npm run build first');
  const arch = ARCHES[process.arch] ?? fail(`no Debian architecture for Node's ${process.arch}`);
  const dpkgArch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  if (dpkgArch !== arch.deb) fail(`this Node is ${process.arch} but dpkg is ${dpkgArch}: build on the target architecture`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  const name = `fieldgate_${pkg.version}_${arch.deb}`;
  const staging = mkdtempSync(join(tmpdir(), 'fieldgate-deb-'));
  const root = join(staging, name);
  const appDir = join(root, APP_DIR);
  try {
    const notShipped = (path) => !/\.(map|d\.ts|tsbuildinfo)$/.test(path) && !path.includes(`${sep}electron${sep}`);
    cpSync(join(ROOT, 'dist/main'), join(appDir, 'dist/main'), { recursive: true, filter: notShipped });
    cpSync(join(ROOT, 'dist/renderer'), join(appDir, 'dist/renderer'), { recursive: true, filter: notShipped });
    cpSync(join(ROOT, 'native-config/ota'), join(appDir, 'native-config/ota'), { recursive: true });
    const { version, description, license, type, engines } = pkg;
    writeFileSync(join(appDir, 'package.json'), `${JSON.stringify({ name: 'fieldgate', version, description, license, type, engines }, null, 2)}\n`);
    copyProductionModules(appDir, process.arch);
    const wrapper = join(root, 'usr/bin/fieldgate');
    writeExecutable(wrapper, `#!/bin/sh\nexec /usr/bin/node /${APP_DIR}/dist/main/cli.js "$@"\n`);
    for (const [from, to] of SYSTEM_FILES) cpSync(join(ROOT, 'native-config', from), join(root, to));
    const docDir = join(root, 'usr/share/doc/fieldgate');
    mkdirSync(docDir, { recursive: true });
    writeFileSync(join(docDir, 'README.md.gz'), gzipSync(readFileSync(join(ROOT, 'README.md')), { level: 9 }));
    cpSync(join(ROOT, 'packaging/deb/copyright'), join(docDir, 'copyright'));
    const date = new Date(Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' })) * 1000).toUTCString().replace('GMT', '+0000');
    const changelog = `fieldgate (${version}) unstable; urgency=medium\n\n  * Release ${version}; see README.md.\n\n -- fieldgate maintainers <fieldgate@example.com>  ${date}\n`;
    writeFileSync(join(docDir, 'changelog.gz'), gzipSync(changelog, { level: 9 }));

    const binaries = checkBinaries(root, arch.elfMachine);
    for (const file of binaries) execFileSync('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', file]);
    // Nothing under /usr/lib/fieldgate is run directly (Node loads it), so only /usr/bin/fieldgate is executable.
    for (const file of walk(root)) chmodSync(file, file === wrapper ? 0o755 : 0o644);

    const debian = join(root, 'DEBIAN');
    mkdirSync(debian);
    for (const script of ['postinst', 'prerm', 'postrm']) writeExecutable(join(debian, script), maintainerScript(`packaging/deb/${script}.sh`));
    const md5sums = walk(root)
      .filter((file) => !file.startsWith(debian))
      .map((file) => `${createHash('md5').update(readFileSync(file)).digest('hex')}  ${relative(root, file)}\n`);
    writeFileSync(join(debian, 'md5sums'), md5sums.join(''));
    const installedKiB = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', root], { encoding: 'utf8' }).split('\t')[0]);
    // Native modules are bound to the ABI of the Node major they were built for, hence `nodejs (<< major+1)`.
    const depends = [`nodejs (>= ${engines.node.replace(/^>=\s*/, '')})`, `nodejs (<< ${nodeMajor + 1})`, 'adduser', 'procps', ...sharedLibraryDepends(root, binaries)];
    writeFileSync(
      join(debian, 'control'),
      [
        'Package: fieldgate',
        `Version: ${version}`,
        `Architecture: ${arch.deb}`,
        'Maintainer: fieldgate maintainers <fieldgate@example.com>',
        `Installed-Size: ${installedKiB}`,
        `Depends: ${depends.join(', ')}`,
        'Recommends: systemd, bluez, ca-certificates',
        'Section: net',
        'Priority: optional',
        'Homepage: https://fieldgate.example.com/',
        `Description: ${description.split(':')[0]}`,
        ' fieldgate reads serial (jsonl, csv, kv, Modbus RTU) and BLE (BTHome, Ruuvi)',
        ' sensors, keeps every reading in a durable SQLite buffer and publishes it over',
        ' MQTT with mutual TLS, deleting it only after the broker acknowledged it. It',
        ' installs signed OTA bundles and has a local setup UI. This package runs',
        " headless on the distribution's Node.js as the systemd service fieldgate.",
        '',
      ].join('\n'),
    );
    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `${name}.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
    return deb;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function writeElectronScripts(outDir) {
  mkdirSync(outDir, { recursive: true });
  for (const script of ['after-install', 'after-remove']) writeExecutable(join(outDir, `${script}.sh`), maintainerScript(`packaging/electron/${script}.sh`));
  return outDir;
}

const args = process.argv.slice(2);
const option = (flag) => {
  const index = args.indexOf(flag);
  return index === -1 ? undefined : (args[index + 1] ?? fail(`${flag} needs a directory`));
};
const electronScripts = option('--electron-scripts');
process.stdout.write(`${electronScripts ? writeElectronScripts(resolve(electronScripts)) : buildDeb(resolve(option('--out') ?? join(ROOT, 'release')))}\n`);
