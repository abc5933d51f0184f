import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, readlink, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseKeyset, type Keyset } from './documents.js';
import { pausepoint } from './failpoint.js';
import { fsyncDir } from '../files/durable.js';
import { writeJsonDurably } from './fs-atomic.js';
import type { Floor, TimeEvidence } from './policy.js';
import { OtaError } from './reasons.js';

/**
 * The OTA root:
 * ```
 * <root>/versions/<v>/   install slots, one folder per version
 * <root>/current         symlink → versions/<v>, switched atomically
 * <root>/staging/        everything an unfinished install writes
 * <root>/lock/           the install lock: install.lock.<generation>
 * <root>/state/          outside the slots: floor.json, time.json, keyset.json, install.json (journal), marked-good.json, rolled-back.json
 * ```
 */
export class OtaLayout {
  readonly versionsDir: string;
  readonly stagingDir: string;
  readonly stateDir: string;
  readonly lockDir: string;
  readonly currentLink: string;
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
    this.versionsDir = join(this.root, 'versions');
    this.stagingDir = join(this.root, 'staging');
    this.stateDir = join(this.root, 'state');
    this.lockDir = join(this.root, 'lock');
    this.currentLink = join(this.root, 'current');
  }
  versionDir(version: number): string {
    return join(this.versionsDir, String(version));
  }
  /** Relative, so the whole root can be moved or mounted elsewhere. */
  linkTarget(version: number): string {
    return join('versions', String(version));
  }
  file(name: 'floor' | 'time' | 'keyset' | 'install' | 'marked-good' | 'rolled-back'): string {
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

/** The last rollback, kept until a later version marks itself good (the `rolled-back` alert reads it). */
export interface RollbackMarker {
  /** The version that was left: a failed trial, an unfinished install, or the current one an operator rolled back from. */
  from: number;
  /** The version current afterwards, or null when none is. */
  to: number | null;
  /** `operator`, `recovery` (an install interrupted before it marked itself good), or the failed trial's reason code. */
  reason: string;
  at: number;
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
    await writeJsonDurably(this.layout.file('install'), journal);
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
    await writeJsonDurably(this.layout.file('marked-good'), { version, at });
  }

  async readRollback(): Promise<RollbackMarker | undefined> {
    return (await readJson(this.layout.file('rolled-back'))) as RollbackMarker | undefined;
  }

  async writeRollback(marker: RollbackMarker): Promise<void> {
    await mkdir(this.layout.stateDir, { recursive: true });
    await writeJsonDurably(this.layout.file('rolled-back'), marker);
  }

  /** Raised only once a version has marked itself good; never lowered. A good version also ends the last rollback's marker. */
  async commitGood(journal: InstallJournal): Promise<void> {
    const [floor, evidence] = await Promise.all([this.readFloor(), this.readEvidence()]);
    if (journal.rotatedKeyset) await writeJsonDurably(this.layout.file('keyset'), journal.rotatedKeyset);
    await writeJsonDurably(this.layout.file('time'), {
      lastTrustedTime: Math.max(evidence.lastTrustedTime, journal.trustedTime),
      newestIssuedAt: Math.max(evidence.newestIssuedAt, journal.issuedAt),
    });
    await writeJsonDurably(this.layout.file('floor'), {
      version: Math.max(floor.version, journal.version),
      securityCounter: Math.max(floor.securityCounter, journal.securityCounter),
    });
    await rm(this.layout.file('rolled-back'), { force: true });
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

const LOCK_NAME = /^install\.lock\.(\d{1,15})(\.released)?$/;
const LOCK_ATTEMPTS = 100;
const LOCK_WAIT_POLL_MS = 100;
/**
 * How long an operator's install, rollback or recovery waits for the lock: a new version's
 * `ota mark-good` holds it for a moment right after an install.
 */
export const OPERATOR_LOCK_WAIT_MS = 10_000;

interface LockGeneration {
  generation: number;
  /** Released by its owner, or vanished while being read. */
  free: boolean;
  owner?: { pid: number; boot: string };
}

/**
 * One install at a time, across processes (the service and the CLI). Each taking of the lock is a
 * new generation, `lock/install.lock.<n>`, created with link(2) from a file that already holds the
 * owner's pid and boot id: link refuses an existing name, so of two contenders that both found
 * generation n free or stale (its owner gone: power loss, SIGKILL), exactly one creates n+1; the
 * other sees n+1 held. Nothing is ever deleted to take over, so no contender can remove a lock that
 * another just took. Releasing renames the generation to `….released`.
 */
export async function acquireInstallLock(layout: OtaLayout, options: { waitMs?: number } = {}): Promise<() => Promise<void>> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      return await takeInstallLock(layout);
    } catch (error) {
      if (!(error instanceof OtaError && error.code === 'install-in-progress') || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, LOCK_WAIT_POLL_MS));
    }
  }
}

async function takeInstallLock(layout: OtaLayout): Promise<() => Promise<void>> {
  await mkdir(layout.lockDir, { recursive: true });
  const boot = await bootId();
  const mine = join(layout.lockDir, `.candidate-${process.pid}-${randomBytes(6).toString('hex')}`);
  await writeFile(mine, `${process.pid} ${boot}\n`, { flag: 'wx', mode: 0o644 });
  try {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt += 1) {
      const latest = await latestLockGeneration(layout.lockDir);
      if (latest && !latest.free && latest.owner && latest.owner.boot === boot && isAlive(latest.owner.pid)) {
        throw new OtaError('install-in-progress', `another OTA operation (pid ${latest.owner.pid}) holds ${join(layout.lockDir, `install.lock.${latest.generation}`)}`);
      }
      await pausepoint('lock-takeover');
      const generation = (latest?.generation ?? 0) + 1;
      const path = join(layout.lockDir, `install.lock.${generation}`);
      try {
        await link(mine, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // another contender took it: look again
        throw error;
      }
      await fsyncDir(layout.lockDir);
      await removeGenerationsBelow(layout.lockDir, generation);
      return async () => {
        await rename(path, `${path}.released`).catch(() => undefined);
      };
    }
    throw new OtaError('install-in-progress', `could not take the install lock in ${layout.lockDir}`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function latestLockGeneration(dir: string): Promise<LockGeneration | undefined> {
  let latest: { generation: number; released: boolean } | undefined;
  for (const name of await readdir(dir)) {
    const match = LOCK_NAME.exec(name);
    if (!match) continue;
    const generation = Number(match[1]);
    const released = match[2] !== undefined;
    if (!latest || generation > latest.generation || (generation === latest.generation && released)) latest = { generation, released };
  }
  if (!latest) return undefined;
  if (latest.released) return { generation: latest.generation, free: true };
  let text: string;
  try {
    text = await readFile(join(dir, `install.lock.${latest.generation}`), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { generation: latest.generation, free: true };
    throw error;
  }
  const [pid, boot] = text.trim().split(' ');
  const owner = Number(pid);
  return { generation: latest.generation, free: false, ...(Number.isInteger(owner) && owner > 0 ? { owner: { pid: owner, boot: boot ?? '' } } : {}) };
}

/** Older generations only tell history; the newest one alone decides who holds the lock. */
async function removeGenerationsBelow(dir: string, generation: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const match = LOCK_NAME.exec(name);
    if (match && Number(match[1]) < generation) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** A pid from another boot may belong to anyone now: such a lock is stale whatever `kill(pid, 0)` says. */
async function bootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return 'unknown-boot';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
