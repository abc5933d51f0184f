import { readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { fsyncDir } from '../files/durable.js';
import { switchSymlink, TEMP_LINK_MARK } from './fs-atomic.js';
import { OtaError } from './reasons.js';
import { acquireInstallLock, OPERATOR_LOCK_WAIT_MS, OtaLayout, OtaStateStore, type InstallJournal } from './state.js';

export type RecoveryOutcome = 'clean' | 'committed' | 'rolled-back';

/**
 * The versions on disk and the `current` link: recover, roll back, list. Needs no trusted keys and
 * no device model, because it never verifies a bundle. The `…Held` methods expect the install
 * lock to be held by the caller (the installer, in the middle of an install).
 */
export class OtaVersions {
  readonly layout: OtaLayout;
  readonly store: OtaStateStore;

  constructor(root: string, private readonly log: Logger) {
    this.layout = new OtaLayout(root);
    this.store = new OtaStateStore(this.layout);
  }

  /** Finishes or undoes whatever a crash interrupted. Safe to run at every boot (`fieldgate ota recover`). */
  async recover(): Promise<RecoveryOutcome> {
    const release = await acquireInstallLock(this.layout, { waitMs: OPERATOR_LOCK_WAIT_MS });
    try {
      return await this.recoverHeld();
    } finally {
      await release();
    }
  }

  /** Operator-initiated: go back to the previous version kept on disk. */
  async rollbackToPrevious(): Promise<number> {
    const release = await acquireInstallLock(this.layout, { waitMs: OPERATOR_LOCK_WAIT_MS });
    try {
      await this.recoverHeld();
      const target = await this.previous();
      if (target === undefined) throw new OtaError('no-previous-version', 'there is no previous version on disk to roll back to');
      const current = await this.store.currentVersion();
      await switchSymlink(this.layout.currentLink, this.layout.linkTarget(target));
      if (current !== undefined) await this.store.writeRollback({ from: current, to: target, reason: 'operator', at: Date.now() });
      return target;
    } finally {
      await release();
    }
  }

  async installed(): Promise<number[]> {
    const names = await readdir(this.layout.versionsDir).catch(() => [] as string[]);
    return names.filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
  }

  /** The newest version on disk older than `current` (any version when nothing is current). */
  async previous(): Promise<number | undefined> {
    const current = await this.store.currentVersion();
    return (await this.installed()).filter((v) => current === undefined || v < current).at(-1);
  }

  async recoverHeld(): Promise<RecoveryOutcome> {
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
      this.log.info({ version: journal.version }, 'OTA recovery: interrupted install had marked good; floor raised');
      return 'committed';
    }
    // An interrupted switch, or a trial whose supervisor died before mark-good: never trust it.
    await this.rollBackHeld(journal, 'recovery');
    this.log.warn({ version: journal.version, previous: journal.previous }, 'OTA recovery: rolled back an unfinished install');
    return 'rolled-back';
  }

  /**
   * Points `current` back at the journal's previous version (or removes it) and discards the failed
   * slot; the rollback marker (`reason`: the trial's failure, or `recovery`) is written before the
   * journal goes, so a crash in between repeats the rollback and its marker.
   */
  async rollBackHeld(journal: InstallJournal, reason: string): Promise<void> {
    if (journal.previous === null) {
      await unlink(this.layout.currentLink).catch(() => undefined);
      await fsyncDir(this.layout.root);
    } else {
      await switchSymlink(this.layout.currentLink, this.layout.linkTarget(journal.previous));
    }
    await rm(this.layout.versionDir(journal.version), { recursive: true, force: true });
    await rm(`${this.layout.versionDir(journal.version)}.manifest.json`, { force: true });
    await this.store.writeRollback({ from: journal.version, to: journal.previous, reason, at: Date.now() });
    await this.store.clearJournal();
  }

  /** Keeps the listed versions; anything else in versions/ goes. */
  async pruneHeld(keep: number[]): Promise<void> {
    for (const name of await readdir(this.layout.versionsDir)) {
      const version = Number(name.replace(/\.manifest\.json$/, ''));
      if (!keep.includes(version)) await rm(join(this.layout.versionsDir, name), { recursive: true, force: true });
    }
  }
}
