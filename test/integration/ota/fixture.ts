// Shared set-up for the OTA integration tests: a temp box (OTA root, trusted key file), real
// signed bundles whose entrypoints are tiny scripts, the real CLI, and a tree snapshot to prove
// that refused or interrupted installs wrote nothing outside staging.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../../../main/ota/documents.js';
import { Installer, type InstallerDeps } from '../../../main/ota/installer.js';
import { EntrypointLauncher } from '../../../main/ota/launcher.js';
import type { SignedKeyset } from '../../../main/ota/publish.js';
import type { ProgressEvent } from '../../../main/ota/verify.js';
import { silentLogger } from '../../../main/log/logger.js';
import { systemClock } from '../../../main/shared/clock.js';
import { ARCH, bundleBytes, makePublisher, makeRelease, MODEL, type PayloadSpec, type Publisher, type Release } from '../../unit/ota/bundle-factory.js';

export const CLI = new URL('../../../main/cli.js', import.meta.url).pathname;

export const SCRIPTS = {
  /** Marks itself good through the real CLI, as a healthy new version would. */
  good: `require('node:child_process').execFileSync(process.execPath, [process.env.FG_CLI, 'ota', 'mark-good'], { stdio: 'inherit' });\n`,
  /** Starts and keeps running but never marks good. */
  silent: `console.log('pid ' + process.pid);\nsetInterval(() => {}, 1000);\n`,
  /** Crashes on start. */
  crash: `console.error('boom');\nprocess.exit(3);\n`,
};

export class OtaBox {
  readonly events: ProgressEvent[] = [];
  private constructor(
    readonly dir: string,
    readonly root: string,
    readonly keysFile: string,
    public publisher: Publisher,
  ) {}

  static async create(): Promise<OtaBox> {
    const dir = await mkdtemp(join(tmpdir(), 'fieldgate-ota-'));
    const publisher = makePublisher(3, 2);
    const keysFile = join(dir, 'trusted-keys.json');
    await writeFile(keysFile, JSON.stringify(publisher.keyset));
    return new OtaBox(dir, join(dir, 'root'), keysFile, publisher);
  }

  /** CLI flags describing this box. */
  deviceArgs(): string[] {
    return ['--root', this.root, '--keys', this.keysFile, '--model', MODEL, '--arch', ARCH];
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  installer(overrides: Partial<InstallerDeps> = {}): Installer {
    return new Installer({
      root: this.root,
      shippedKeyset: this.publisher.keyset,
      device: { appId: 'fieldgate', model: MODEL, arch: ARCH },
      clock: systemClock,
      launcher: new EntrypointLauncher({ env: { ...process.env, FG_CLI: CLI } }),
      log: silentLogger,
      markGoodTimeoutMs: 60_000,
      onProgress: (event) => this.events.push(event),
      ...overrides,
    });
  }

  release(version: number, script: string, options: { signers?: Publisher['keys']; rotation?: SignedKeyset; manifest?: Partial<Manifest> } = {}): Release {
    const now = Math.floor(Date.now() / 1000);
    const files: PayloadSpec[] = [
      { path: 'bin/start.js', data: Buffer.from(script), executable: true },
      { path: 'lib/blob.bin', data: randomBytes(96 * 1024) },
      { path: 'package.json', data: Buffer.from('{"type":"commonjs"}\n') },
    ];
    return makeRelease(
      options.signers ?? this.publisher.keys.slice(0, 2),
      { version, securityCounter: 1, issuedAt: now - 60, expiresAt: now + 86_400, ...options.manifest },
      { files, ...(options.rotation ? { rotation: options.rotation } : {}) },
    );
  }

  async writeBundle(release: Release, name = `v${release.envelope.signed.version}-${randomBytes(3).toString('hex')}.tar`, bytes?: Buffer): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, bytes ?? (await bundleBytes(release)));
    return path;
  }

  open(path: string) {
    return createReadStream(path);
  }

  async current(): Promise<string | undefined> {
    return readlink(join(this.root, 'current')).catch(() => undefined);
  }

  async floor(): Promise<unknown> {
    return JSON.parse(await readFile(join(this.root, 'state', 'floor.json'), 'utf8').catch(() => '{"version":0,"securityCounter":0}'));
  }

  /**
   * Every path under the root except staging/ and lock/, with its content hash, link target and mode. Logs
   * of running versions are listed by name only: a version started earlier may still be writing.
   */
  async snapshotOutsideStaging(): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const walk = async (relative: string): Promise<void> => {
      const entries = await readdir(join(this.root, relative)).catch(() => [] as string[]);
      for (const name of entries) {
        const path = relative ? `${relative}/${name}` : name;
        // lock/ is the install lock, taken by every operation (refused ones too); it is not install output.
        if (path === 'staging' || path === 'lock') continue;
        const full = join(this.root, path);
        const stats = await lstat(full);
        if (stats.isSymbolicLink()) result.set(path, `link:${await readlink(full)}`);
        else if (stats.isDirectory()) {
          result.set(path, `dir:${stats.mode.toString(8)}`);
          await walk(path);
        } else if (path.startsWith('state/logs/')) result.set(path, 'log');
        else result.set(path, `file:${stats.mode.toString(8)}:${bytesToHex(sha256(await readFile(full)))}`);
      }
    };
    await walk('');
    return result;
  }

  async stagingEntries(): Promise<string[]> {
    return readdir(join(this.root, 'staging')).catch(() => []);
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FG_CLI: CLI, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs `fieldgate ota install` in a child that stops at the named failpoint, then pulls the plug
 * (SIGKILL) exactly there, like a power loss.
 */
export function installAndKillAt(box: OtaBox, bundle: string, point: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'ota', 'install', bundle, ...box.deviceArgs()], {
      env: { ...process.env, FG_CLI: CLI, FIELDGATE_OTA_FAILPOINT: point },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`failpoint ${point} was never reached; stderr: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!killed && stderr.includes(`fieldgate-ota-failpoint ${point}`)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.once('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve();
      else reject(new Error(`install ended without reaching ${point} (signal ${signal}); stderr: ${stderr}`));
    });
  });
}
