import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { canonicalize } from './canonical-json.js';
import type { FileEntry, Keyset, Manifest } from './documents.js';
import { failpoint } from './failpoint.js';
import { fsyncDir, switchSymlink, TEMP_LINK_MARK } from './fs-atomic.js';
import type { RunningVersion, VersionLauncher } from './launcher.js';
import { trustedTime, type DeviceIdentity } from './policy.js';
import { OtaError, type OtaReason } from './reasons.js';
import { acquireInstallLock, OtaLayout, OtaStateStore, type InstallJournal } from './state.js';
import { verifyBundle, type PayloadSink, type ProgressEvent, type VerifiedBundle, type VerifyLimits } from './verify.js';

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

export type RecoveryOutcome = 'clean' | 'committed' | 'rolled-back';

const MARK_POLL_MS = 200;

/** Verify → extract to staging → atomic switch → trial → mark-good (raise floor) or roll back. */
export class Installer {
  readonly layout: OtaLayout;
  readonly store: OtaStateStore;

  constructor(private readonly deps: InstallerDeps) {
    this.layout = new OtaLayout(deps.root);
    this.store = new OtaStateStore(this.layout);
  }

  /** Verifies without installing; reads state but writes nothing. */
  async verify(input: Readable): Promise<VerifiedBundle> {
    return verifyBundle(input, await this.verifyContext(), { onProgress: this.deps.onProgress });
  }

  async install(input: Readable): Promise<InstallResult> {
    const release = await acquireInstallLock(this.layout);
    try {
      await this.recoverLocked();
      const { verified, staged } = await this.verifyIntoStaging(input);
      return await this.switchAndTrial(verified, staged);
    } finally {
      await release();
    }
  }

  /** Finishes or undoes whatever a crash interrupted. Safe to run at every boot (`fieldgate ota recover`). */
  async recover(): Promise<RecoveryOutcome> {
    const release = await acquireInstallLock(this.layout);
    try {
      return await this.recoverLocked();
    } finally {
      await release();
    }
  }

  /** Operator-initiated: go back to the previous version kept on disk. */
  async rollbackToPrevious(): Promise<number> {
    const release = await acquireInstallLock(this.layout);
    try {
      await this.recoverLocked();
      const current = await this.store.currentVersion();
      const older = (await this.installedVersions()).filter((v) => current === undefined || v < current);
      const target = older.at(-1);
      if (target === undefined) throw new OtaError('no-previous-version', 'there is no previous version on disk to roll back to');
      await switchSymlink(this.layout.currentLink, this.layout.linkTarget(target));
      if (current !== undefined) await this.store.writeRollback({ from: current, to: target, reason: 'operator', at: this.deps.clock.now() });
      return target;
    } finally {
      await release();
    }
  }

  async installedVersions(): Promise<number[]> {
    const names = await readdir(this.layout.versionsDir).catch(() => [] as string[]);
    return names.filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
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
      await this.prune([manifest.version, ...(previous === null ? [] : [previous])]);
      this.deps.log.info({ version: manifest.version, previous }, 'OTA update marked good; floor raised');
      this.deps.onProgress?.({ phase: 'done', bytesHashed: verified.totalBytes, totalBytes: verified.totalBytes, version: manifest.version });
      return { version: manifest.version, label: manifest.label, previous };
    }
    this.deps.onProgress?.({ phase: 'rollback', bytesHashed: verified.totalBytes, totalBytes: verified.totalBytes, version: manifest.version });
    await this.rollbackLocked(journal, failure.code);
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

  /** Points `current` back at the previous version (or removes it) and discards the failed slot. */
  private async rollbackLocked(journal: InstallJournal, reason: string): Promise<void> {
    if (journal.previous === null) {
      await unlink(this.layout.currentLink).catch(() => undefined);
      await fsyncDir(this.layout.root);
    } else {
      await switchSymlink(this.layout.currentLink, this.layout.linkTarget(journal.previous));
    }
    await rm(this.layout.versionDir(journal.version), { recursive: true, force: true });
    await rm(`${this.layout.versionDir(journal.version)}.manifest.json`, { force: true });
    await this.store.writeRollback({ from: journal.version, to: journal.previous, reason, at: this.deps.clock.now() });
    await this.store.clearJournal();
  }

  private async recoverLocked(): Promise<RecoveryOutcome> {
    const layout = this.layout;
    for (const name of await readdir(layout.stagingDir).catch(() => [] as string[])) {
      await rm(join(layout.stagingDir, name), { recursive: true, force: true });
    }
    for (const name of await readdir(layout.root).catch(() => [] as string[])) {
      if (name.startsWith(`current${TEMP_LINK_MARK}`)) await rm(join(layout.root, name), { force: true });
    }
    const journal = await this.store.readJournal();
    if (journal === undefined) return 'clean';
    if (journal.phase === 'trial' && (await this.store.markedGood()) === journal.version && (await this.store.currentVersion()) === journal.version) {
      await this.store.commitGood(journal);
      await this.store.clearJournal();
      this.deps.log.info({ version: journal.version }, 'OTA recovery: interrupted install had marked good; floor raised');
      return 'committed';
    }
    // An interrupted switch, or a trial whose supervisor died before mark-good: never trust it.
    await this.rollbackLocked(journal, 'recovery');
    this.deps.log.warn({ version: journal.version, previous: journal.previous }, 'OTA recovery: rolled back an unfinished install');
    return 'rolled-back';
  }

  /** Keeps the current and the previous good version; anything else in versions/ goes. */
  private async prune(keep: number[]): Promise<void> {
    for (const name of await readdir(this.layout.versionsDir)) {
      const version = Number(name.replace(/\.manifest\.json$/, ''));
      if (!keep.includes(version)) await rm(join(this.layout.versionsDir, name), { recursive: true, force: true });
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
