import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, statfs, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { canonicalize } from './canonical-json.js';
import type { FileEntry, Keyset, Manifest } from './documents.js';
import { failpoint } from './failpoint.js';
import { fsyncDir } from '../files/durable.js';
import { switchSymlink } from './fs-atomic.js';
import type { RunningVersion, VersionLauncher } from './launcher.js';
import { trustedTime, type DeviceIdentity } from './policy.js';
import { OtaError, type OtaReason } from './reasons.js';
import { acquireInstallLock, OPERATOR_LOCK_WAIT_MS, type InstallJournal, type OtaLayout, type OtaStateStore } from './state.js';
import { verifyBundle, type PayloadSink, type ProgressEvent, type VerifiedBundle, type VerifyLimits } from './verify.js';
import { OtaVersions } from './versions.js';

export interface InstallerDeps {
  root: string;
  shippedKeyset: Keyset;
  device: DeviceIdentity;
  clock: Clock;
  launcher: VersionLauncher;
  log: Logger;
  markGoodTimeoutMs: number;
  skewSeconds?: number;
  limits?: Partial<VerifyLimits>;
  /** Space to leave free on the OTA filesystem after extracting. */
  reserveBytes?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface InstallResult {
  version: number;
  label: string;
  previous: number | null;
}

const MARK_POLL_MS = 200;

/** Verify → extract to staging → atomic switch → trial → mark-good (raise floor) or roll back. */
export class Installer {
  private readonly versions: OtaVersions;
  private readonly layout: OtaLayout;
  private readonly store: OtaStateStore;

  constructor(private readonly deps: InstallerDeps) {
    this.versions = new OtaVersions(deps.root, deps.log);
    this.layout = this.versions.layout;
    this.store = this.versions.store;
  }

  /** Verifies without installing; reads state but writes nothing. */
  async verify(input: Readable): Promise<VerifiedBundle> {
    return verifyBundle(input, await this.verifyContext(), { onProgress: this.deps.onProgress });
  }

  async install(input: Readable): Promise<InstallResult> {
    const release = await acquireInstallLock(this.layout, { waitMs: OPERATOR_LOCK_WAIT_MS });
    try {
      await this.versions.recoverHeld();
      const { verified, staged } = await this.verifyIntoStaging(input);
      return await this.switchAndTrial(verified, staged);
    } finally {
      await release();
    }
  }

  private async verifyContext() {
    const [keyset, floor, evidence] = await Promise.all([
      this.store.readKeyset(this.deps.shippedKeyset),
      this.store.readFloor(),
      this.store.readEvidence(),
    ]);
    return {
      trust: { keyset, floor, evidence },
      device: this.deps.device,
      now: () => this.deps.clock.now(),
      ...(this.deps.skewSeconds !== undefined ? { skewSeconds: this.deps.skewSeconds } : {}),
      ...(this.deps.limits ? { limits: this.deps.limits } : {}),
    };
  }

  /** Extracts only manifest entries, from the very bytes being hashed, into a fresh staging folder. */
  private async verifyIntoStaging(input: Readable): Promise<{ verified: VerifiedBundle; staged: string }> {
    const staged = join(this.layout.stagingDir, randomBytes(8).toString('hex'));
    const progress = this.deps.onProgress;
    let wroteFirstChunk = false;
    const sink: PayloadSink = {
      beginFile: async (file: FileEntry) => {
        const target = join(staged, 'files', file.path);
        await mkdir(dirname(target), { recursive: true });
        const handle = await open(target, 'wx', file.executable ? 0o755 : 0o644);
        return {
          write: async (chunk) => {
            await handle.write(chunk);
            if (!wroteFirstChunk) {
              wroteFirstChunk = true;
              await failpoint('extract');
            }
          },
          close: () => closeSynced(handle),
        };
      },
    };
    try {
      const verified = await verifyBundle(input, await this.verifyContext(), {
        sink,
        onProgress: (event) => progress?.({ ...event, phase: 'extract' }),
        onManifest: async (manifest) => {
          progress?.({ phase: 'check-space', bytesHashed: 0, totalBytes: 0, version: manifest.version });
          await this.checkSpace(manifest);
          await mkdir(join(staged, 'files'), { recursive: true });
        },
      });
      await fsyncTree(join(staged, 'files'));
      return { verified, staged };
    } catch (error) {
      await rm(staged, { recursive: true, force: true });
      throw error;
    }
  }

  private async checkSpace(manifest: Manifest): Promise<void> {
    if ((await this.store.currentVersion()) === manifest.version) {
      throw new OtaError('version-already-installed', `version ${manifest.version} is already the current version`);
    }
    await mkdir(this.layout.stagingDir, { recursive: true });
    const stats = await statfs(this.layout.stagingDir);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const needed = manifest.files.reduce((sum, file) => sum + file.size, 0) + (this.deps.reserveBytes ?? 0);
    if (free < needed) {
      throw new OtaError('insufficient-disk-space', `installing version ${manifest.version} needs ${needed} bytes free; ${free} are available`);
    }
  }

  private async switchAndTrial(verified: VerifiedBundle, staged: string): Promise<InstallResult> {
    const { manifest } = verified;
    const layout = this.layout;
    const previous = (await this.store.currentVersion()) ?? null;
    const slot = layout.versionDir(manifest.version);
    await mkdir(layout.versionsDir, { recursive: true });
    await rm(slot, { recursive: true, force: true });
    await rm(`${slot}.manifest.json`, { force: true });
    await writeManifestCopy(`${staged}/manifest.json`, manifest);
    await rename(join(staged, 'files'), slot);
    await rename(`${staged}/manifest.json`, `${slot}.manifest.json`);
    await fsyncDir(layout.versionsDir);
    await rm(staged, { recursive: true, force: true });

    const journal: InstallJournal = {
      phase: 'switching',
      version: manifest.version,
      previous,
      securityCounter: manifest.securityCounter,
      issuedAt: manifest.issuedAt,
      trustedTime: trustedTime(Math.floor(this.deps.clock.now() / 1000), (await this.store.readEvidence())),
      deadline: this.deps.clock.now() + this.deps.markGoodTimeoutMs,
      ...(verified.rotatedKeyset ? { rotatedKeyset: verified.rotatedKeyset } : {}),
    };
    await mkdir(layout.stateDir, { recursive: true });
    await rm(layout.file('marked-good'), { force: true });
    await this.store.writeJournal(journal);
    this.deps.onProgress?.({ phase: 'switch', bytesHashed: verified.totalBytes, totalBytes: verified.totalBytes, version: manifest.version });
    await switchSymlink(layout.currentLink, layout.linkTarget(manifest.version), () => failpoint('switch'));
    await failpoint('switched');
    journal.phase = 'trial';
    await this.store.writeJournal(journal);
    await failpoint('trial');

    this.deps.onProgress?.({ phase: 'trial', bytesHashed: verified.totalBytes, totalBytes: verified.totalBytes, version: manifest.version });
    const failure = await this.runTrial(manifest);
    if (failure === undefined) {
      await this.store.commitGood(journal);
      await this.store.clearJournal();
      await this.versions.pruneHeld([manifest.version, ...(previous === null ? [] : [previous])]);
      this.deps.log.info({ version: manifest.version, previous }, 'OTA update marked good; floor raised');
      this.deps.onProgress?.({ phase: 'done', bytesHashed: verified.totalBytes, totalBytes: verified.totalBytes, version: manifest.version });
      return { version: manifest.version, label: manifest.label, previous };
    }
    this.deps.onProgress?.({ phase: 'rollback', bytesHashed: verified.totalBytes, totalBytes: verified.totalBytes, version: manifest.version });
    await this.versions.rollBackHeld(journal, failure.code);
    await this.startPrevious(previous);
    const back = previous === null ? 'no version is current now' : `rolled back to version ${previous}`;
    this.deps.log.warn({ version: manifest.version, previous, reason: failure.code }, 'OTA update failed its trial; rolled back');
    throw new OtaError(failure.code, `${failure.message}; ${back}`);
  }

  /** Starts the new version and waits for it to mark itself good before the deadline. */
  private async runTrial(manifest: Manifest): Promise<{ code: OtaReason; message: string } | undefined> {
    let running: RunningVersion;
    try {
      running = await this.deps.launcher.start({
        root: this.layout.root,
        version: manifest.version,
        dir: this.layout.versionDir(manifest.version),
        entrypoint: manifest.entrypoint,
      });
    } catch (error) {
      return { code: 'launch-failed', message: (error as Error).message };
    }
    let exitCode: number | null | undefined;
    void running.exited.then((code) => (exitCode = code));
    // Monotonic: an RTC-less box often steps its wall clock (NTP) right after boot, mid-trial.
    const deadline = performance.now() + this.deps.markGoodTimeoutMs;
    for (;;) {
      if ((await this.store.markedGood()) === manifest.version) {
        running.detach();
        return undefined;
      }
      if (exitCode !== undefined) {
        await delay(MARK_POLL_MS);
        if ((await this.store.markedGood()) === manifest.version) return undefined;
        return { code: 'new-version-exited', message: `version ${manifest.version} exited (code ${exitCode}) without marking itself good` };
      }
      if (performance.now() >= deadline) {
        await running.stop();
        if ((await this.store.markedGood()) === manifest.version) return undefined;
        return {
          code: 'mark-good-timeout',
          message: `version ${manifest.version} did not mark itself good within ${this.deps.markGoodTimeoutMs} ms`,
        };
      }
      await delay(MARK_POLL_MS);
    }
  }

  private async startPrevious(previous: number | null): Promise<void> {
    if (previous === null) return;
    const entrypoint = await readEntrypoint(`${this.layout.versionDir(previous)}.manifest.json`);
    if (entrypoint === undefined) return;
    try {
      const running = await this.deps.launcher.start({ root: this.layout.root, version: previous, dir: this.layout.versionDir(previous), entrypoint });
      running.detach();
    } catch (error) {
      this.deps.log.error({ version: previous, err: (error as Error).message }, 'could not restart the previous version after rollback');
    }
  }

}

async function closeSynced(handle: FileHandle): Promise<void> {
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await fsyncTree(join(dir, entry.name));
  }
  await fsyncDir(dir);
}

async function writeManifestCopy(path: string, manifest: Manifest): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(canonicalize(manifest));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readEntrypoint(path: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { entrypoint?: string }).entrypoint;
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
