import { realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type { Clock } from '../shared/clock.js';
import { ENV_OTA_ROOT, ENV_OTA_VERSION } from './launcher.js';
import { OtaError } from './reasons.js';
import { acquireInstallLock, OtaLayout, OtaStateStore } from './state.js';

export type MarkGoodOutcome = 'already-good' | 'marked' | 'committed';

/**
 * Called by a new version once its health checks pass (buffer open, uplink connected or
 * offline-tolerant, sensors started), e.g. `fieldgate ota mark-good`. Writes the mark atomically;
 * the installer watching the trial raises the floor. If no installer is alive any more (it was
 * interrupted), this commits the install itself. Idempotent: calling it for a version that is
 * already good does nothing, so a service may call it on every start.
 */
export async function markGood(deps: { root: string; version: number; clock: Clock }): Promise<MarkGoodOutcome> {
  const layout = new OtaLayout(deps.root);
  const store = new OtaStateStore(layout);
  const journal = await store.readJournal();
  const current = await store.currentVersion();
  if (journal === undefined) {
    if (current === deps.version) return 'already-good';
    throw new Error(`version ${deps.version} is not on trial and is not the current version (${current ?? 'none'})`);
  }
  if (journal.phase !== 'trial' || journal.version !== deps.version || current !== deps.version) {
    throw new Error(`version ${deps.version} is not on trial (the pending install is version ${journal.version}, phase ${journal.phase})`);
  }
  await store.writeMarkedGood(deps.version, deps.clock.now());
  let release: () => Promise<void>;
  try {
    release = await acquireInstallLock(layout);
  } catch (error) {
    if (error instanceof OtaError && error.code === 'install-in-progress') return 'marked';
    throw error;
  }
  try {
    const still = await store.readJournal();
    if (still?.version !== deps.version) return 'marked';
    await store.commitGood(still);
    await store.clearJournal();
    return 'committed';
  } finally {
    await release();
  }
}

/**
 * For the service: once its health checks pass, confirm the version it is. Started by the
 * installer's launcher, the environment says which; started by systemd through `<root>/current`,
 * the version is the `versions/<v>` folder its script lives in. Returns undefined when this
 * process does not run from an OTA slot (a development checkout, for instance).
 */
export async function markGoodAfterHealthChecks(deps: {
  clock: Clock;
  /** `ota.rootDir`, when the config has one. */
  root?: string;
  env?: NodeJS.ProcessEnv;
  scriptPath?: string;
}): Promise<MarkGoodOutcome | undefined> {
  const env = deps.env ?? process.env;
  const envVersion = Number(env[ENV_OTA_VERSION]);
  const envRoot = env[ENV_OTA_ROOT];
  if (envRoot && Number.isSafeInteger(envVersion) && envVersion >= 1) return markGood({ root: envRoot, version: envVersion, clock: deps.clock });
  if (deps.root === undefined) return undefined;
  const script = await realpath(deps.scriptPath ?? process.argv[1] ?? '').catch(() => undefined);
  const versions = await realpath(new OtaLayout(deps.root).versionsDir).catch(() => undefined);
  if (script === undefined || versions === undefined) return undefined;
  const [folder] = relative(versions, script).split(sep);
  if (folder === undefined || !/^\d+$/.test(folder)) return undefined;
  return markGood({ root: deps.root, version: Number(folder), clock: deps.clock });
}
