import { mkdir, open, readFile, readlink, rm, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseKeyset, type Keyset } from './documents.js';
import { writeJsonAtomic } from './fs-atomic.js';
import type { Floor, TimeEvidence } from './policy.js';
import { OtaError } from './reasons.js';

/**
 * The OTA root:
 * ```
 * <root>/versions/<v>/   install slots, one folder per version
 * <root>/current         symlink → versions/<v>, switched atomically
 * <root>/staging/        everything an unfinished install writes (and the install lock)
 * <root>/state/          outside the slots: floor.json, time.json, keyset.json, install.json (journal), marked-good.json
 * ```
 */
export class OtaLayout {
  readonly versionsDir: string;
  readonly stagingDir: string;
  readonly stateDir: string;
  readonly currentLink: string;
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
    this.versionsDir = join(this.root, 'versions');
    this.stagingDir = join(this.root, 'staging');
    this.stateDir = join(this.root, 'state');
    this.currentLink = join(this.root, 'current');
  }
  versionDir(version: number): string {
    return join(this.versionsDir, String(version));
  }
  /** Relative, so the whole root can be moved or mounted elsewhere. */
  linkTarget(version: number): string {
    return join('versions', String(version));
  }
  file(name: 'floor' | 'time' | 'keyset' | 'install' | 'marked-good'): string {
    return join(this.stateDir, `${name}.json`);
  }
}

/** What an install in progress has promised; survives power loss so the next start can finish or undo it. */
export interface InstallJournal {
  phase: 'switching' | 'trial';
  version: number;
  previous: number | null;
  securityCounter: number;
  issuedAt: number;
  trustedTime: number;
  /** Wall-clock time the trial ends, for operators; the installer itself times the trial monotonically. */
  deadline: number;
  rotatedKeyset?: Keyset;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`OTA state file "${path}" is unreadable: ${(error as Error).message}`);
  }
}

function nonNegativeInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`OTA state "${what}": expected integer >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

export class OtaStateStore {
  constructor(readonly layout: OtaLayout) {}

  async readFloor(): Promise<Floor> {
    const raw = (await readJson(this.layout.file('floor'))) as Partial<Floor> | undefined;
    if (raw === undefined) return { version: 0, securityCounter: 0 };
    return { version: nonNegativeInt(raw.version, 'floor.version'), securityCounter: nonNegativeInt(raw.securityCounter, 'floor.securityCounter') };
  }

  async readEvidence(): Promise<TimeEvidence> {
    const raw = (await readJson(this.layout.file('time'))) as Partial<TimeEvidence> | undefined;
    if (raw === undefined) return { lastTrustedTime: 0, newestIssuedAt: 0 };
    return {
      lastTrustedTime: nonNegativeInt(raw.lastTrustedTime, 'time.lastTrustedTime'),
      newestIssuedAt: nonNegativeInt(raw.newestIssuedAt, 'time.newestIssuedAt'),
    };
  }

  /** The shipped key set, unless a rotation to a newer one was installed. */
  async readKeyset(shipped: Keyset): Promise<Keyset> {
    const raw = await readJson(this.layout.file('keyset'));
    if (raw === undefined) return shipped;
    const persisted = parseKeyset(raw, this.layout.file('keyset'));
    return persisted.version > shipped.version ? persisted : shipped;
  }

  async readJournal(): Promise<InstallJournal | undefined> {
    return (await readJson(this.layout.file('install'))) as InstallJournal | undefined;
  }

  async writeJournal(journal: InstallJournal): Promise<void> {
    await mkdir(this.layout.stateDir, { recursive: true });
    await writeJsonAtomic(this.layout.file('install'), journal);
  }

  async clearJournal(): Promise<void> {
    await rm(this.layout.file('install'), { force: true });
    await rm(this.layout.file('marked-good'), { force: true });
  }

  async markedGood(): Promise<number | undefined> {
    const raw = (await readJson(this.layout.file('marked-good'))) as { version?: unknown } | undefined;
    return typeof raw?.version === 'number' ? raw.version : undefined;
  }

  async writeMarkedGood(version: number, at: number): Promise<void> {
    await writeJsonAtomic(this.layout.file('marked-good'), { version, at });
  }

  /** Raised only once a version has marked itself good; never lowered. */
  async commitGood(journal: InstallJournal): Promise<void> {
    const [floor, evidence] = await Promise.all([this.readFloor(), this.readEvidence()]);
    if (journal.rotatedKeyset) await writeJsonAtomic(this.layout.file('keyset'), journal.rotatedKeyset);
    await writeJsonAtomic(this.layout.file('time'), {
      lastTrustedTime: Math.max(evidence.lastTrustedTime, journal.trustedTime),
      newestIssuedAt: Math.max(evidence.newestIssuedAt, journal.issuedAt),
    });
    await writeJsonAtomic(this.layout.file('floor'), {
      version: Math.max(floor.version, journal.version),
      securityCounter: Math.max(floor.securityCounter, journal.securityCounter),
    });
  }

  async currentVersion(): Promise<number | undefined> {
    try {
      const target = await readlink(this.layout.currentLink);
      const match = /^versions\/(\d+)$/.exec(target);
      return match ? Number(match[1]) : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/**
 * One install at a time. The lock file lives in staging and holds the owner's pid; a lock left by
 * a process that no longer exists (power loss, SIGKILL) is taken over.
 */
export async function acquireInstallLock(layout: OtaLayout): Promise<() => Promise<void>> {
  await mkdir(layout.stagingDir, { recursive: true });
  const path = join(layout.stagingDir, 'install.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new OtaError('install-in-progress', `another OTA operation (pid ${owner}) holds ${path}`);
      }
      await rm(path, { force: true });
    }
  }
  throw new OtaError('install-in-progress', `could not take the install lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
