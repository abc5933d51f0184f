import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventPublisher, OtaBackend } from '../api/backends.js';
import type { Logger } from '../log/logger.js';
import { ApiError, type MethodResult, type OTA_PHASES, type ParsedInput } from '../shared/api.js';
import type { Clock } from '../shared/clock.js';
import type { OtaConfig } from '../shared/config/ota.js';
import type { Keyset } from './documents.js';
import { Installer } from './installer.js';
import { EntrypointLauncher, RestartCommandLauncher, type VersionLauncher } from './launcher.js';
import { OtaError } from './reasons.js';
import { OtaLayout } from './state.js';
import { loadKeysetFile, SHIPPED_KEYS_FILE } from './trusted-keys.js';
import type { ProgressEvent } from './verify.js';
import { OtaVersions } from './versions.js';

type BundleInfo = MethodResult<'uploadBundle'>;
type Phase = (typeof OTA_PHASES)[number];

/** Where uploaded bundles wait, outside `staging/`: the installer empties staging at every start and recovery. */
export function uploadsDirOf(root: string): string {
  return join(new OtaLayout(root).root, 'uploads');
}

export interface OtaServiceDeps {
  config: OtaConfig;
  /** `otaRootFor(config)`. */
  root: string;
  events: EventPublisher;
  log: Logger;
  clock: Clock;
  /** The version of the running app, shown while no OTA version is current. */
  runningVersion: string;
  /** Defaults as in `fieldgate ota install`: ota.restartCommand, or starting the entrypoint. */
  launcher?: VersionLauncher;
  /** Defaults to ota.trustedKeysFile, or the key set shipped with the app. */
  shippedKeyset?: Keyset;
}

interface Installing {
  bundleId: string;
  phase: Phase;
}

const BUNDLE_ID = /^[0-9a-f]{16}$/;

/**
 * OTA for the control API: one uploaded bundle at a time, streamed to disk and capped at
 * ota.maxBundleBytes; verify it (the reason code on refusal); install it in the background with
 * `ota-progress` events; roll back to the previous version; and the state of all that.
 */
export class OtaService implements OtaBackend {
  private staged: BundleInfo | undefined;
  private installing: Installing | undefined;
  private readonly uploads: string;

  constructor(private readonly deps: OtaServiceDeps) {
    this.uploads = uploadsDirOf(deps.root);
  }

  async status(): Promise<MethodResult<'otaStatus'>> {
    const versions = this.versions();
    const current = await versions.store.currentVersion();
    const previous = await versions.previous();
    const installedAt = current === undefined ? null : await lstat(versions.layout.currentLink).then((s) => s.mtime.toISOString(), () => null);
    return {
      current: { version: current === undefined ? this.deps.runningVersion : await this.labelOf(current), installedAt },
      previous: previous === undefined ? null : { version: await this.labelOf(previous) },
      staged: this.staged ?? null,
      installing: this.installing ? { ...this.installing } : null,
      canRollback: previous !== undefined && this.installing === undefined,
    };
  }

  async upload(body: AsyncIterable<Uint8Array>, input: ParsedInput<'uploadBundle'>): Promise<MethodResult<'uploadBundle'>> {
    if (this.installing) throw new ApiError('conflict', 'an install is running; upload the next bundle when it has finished');
    const cap = this.deps.config.maxBundleBytes;
    const bundleId = randomBytes(8).toString('hex');
    // One bundle waits at a time: a new upload replaces the last one (and anything a crash left behind).
    await rm(this.uploads, { recursive: true, force: true });
    this.staged = undefined;
    await mkdir(this.uploads, { recursive: true, mode: 0o700 });
    const partial = join(this.uploads, `${bundleId}.partial`);
    const hash = createHash('sha256');
    let bytes = 0;
    const handle = await open(partial, 'wx', 0o600);
    try {
      for await (const chunk of body) {
        bytes += chunk.length;
        if (bytes > cap) {
          throw new ApiError('too-large', `the bundle is larger than ota.maxBundleBytes (${cap} bytes); nothing was kept`, { hint: 'build a smaller bundle, or raise ota.maxBundleBytes' });
        }
        hash.update(chunk);
        await handle.write(chunk);
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(partial, { force: true });
      throw error;
    }
    await handle.close();
    await rename(partial, this.bundlePath(bundleId));
    const info = { bundleId, bytes, sha256: hash.digest('hex'), receivedAt: new Date(this.deps.clock.now()).toISOString() };
    this.staged = info;
    this.deps.log.info({ ...info, fileName: input.fileName }, 'OTA bundle uploaded');
    return info;
  }

  async verify(input: ParsedInput<'verifyBundle'>): Promise<MethodResult<'verifyBundle'>> {
    const path = this.stagedPath(input.bundleId);
    try {
      const verified = await this.installer().verify(createReadStream(path));
      const { manifest } = verified;
      return {
        ok: true,
        bundleId: input.bundleId,
        version: manifest.label,
        message: `version ${manifest.label} (${manifest.version}) is signed by trusted keys and fits this box: ${manifest.files.length} files, ${verified.totalBytes} bytes`,
      };
    } catch (error) {
      if (!(error instanceof OtaError)) throw error;
      this.deps.log.warn({ bundleId: input.bundleId, reason: error.code }, 'OTA bundle refused');
      return { ok: false, bundleId: input.bundleId, reason: error.code, message: error.message.slice(error.code.length + 2) };
    }
  }

  install(input: ParsedInput<'installBundle'>): MethodResult<'installBundle'> {
    const path = this.stagedPath(input.bundleId);
    if (this.installing) throw new ApiError('conflict', `bundle ${this.installing.bundleId} is being installed`, { hint: 'wait for its ota-progress done or failed event' });
    const installing: Installing = { bundleId: input.bundleId, phase: 'verifying' };
    this.installing = installing;
    const bytesTotal = this.staged?.bytes ?? 0;
    this.progress(installing, 'verifying', 0, bytesTotal);
    let last = { bytesDone: 0, bytesTotal };
    const onProgress = (event: ProgressEvent): void => {
      const phase = PHASES[event.phase];
      last = { bytesDone: event.bytesHashed, bytesTotal: event.totalBytes };
      // `done` is announced once the service is free again, so a status fetched on it is final (canRollback).
      if (phase !== undefined && phase !== 'done') this.progress(installing, phase, event.bytesHashed, event.totalBytes);
    };
    const finish = (phase: 'done' | 'failed', bytes: { bytesDone: number; bytesTotal: number }, reason?: string): void => {
      if (this.installing === installing) this.installing = undefined;
      this.progress(installing, phase, bytes.bytesDone, bytes.bytesTotal, reason);
    };
    void Promise.resolve()
      .then(() => this.installer(onProgress).install(createReadStream(path)))
      .then(async (result) => {
        this.deps.log.info({ bundleId: input.bundleId, ...result }, 'OTA bundle installed from the control API');
        await rm(path, { force: true });
        if (this.staged?.bundleId === input.bundleId) this.staged = undefined;
        finish('done', last);
      })
      .catch((error: unknown) => {
        const reason = error instanceof OtaError ? error.code : 'internal';
        this.deps.log.error({ bundleId: input.bundleId, reason, err: error instanceof Error ? error.message : String(error) }, 'OTA install failed');
        finish('failed', { bytesDone: 0, bytesTotal: 0 }, reason);
      });
    return { bundleId: input.bundleId, started: true };
  }

  async rollback(): Promise<MethodResult<'rollback'>> {
    if (this.installing) throw new ApiError('conflict', 'an install is running; roll back after it has finished (a failed trial rolls back by itself)');
    try {
      const version = await this.versions().rollbackToPrevious();
      this.deps.log.warn({ version }, 'OTA rolled back from the control API');
      return { version: await this.labelOf(version) };
    } catch (error) {
      if (error instanceof OtaError && (error.code === 'no-previous-version' || error.code === 'install-in-progress')) {
        throw new ApiError('conflict', error.message.slice(error.code.length + 2));
      }
      throw error;
    }
  }

  private progress(installing: Installing, phase: Phase, bytesDone: number, bytesTotal: number, reason?: string): void {
    installing.phase = phase;
    this.deps.events.publish({ type: 'ota-progress', bundleId: installing.bundleId, phase, bytesDone, bytesTotal, ...(reason !== undefined && { reason }) });
  }

  private stagedPath(bundleId: string): string {
    if (!BUNDLE_ID.test(bundleId) || this.staged?.bundleId !== bundleId) {
      throw new ApiError('not-found', `no uploaded bundle ${bundleId}`, { field: 'bundleId', hint: 'upload the bundle (again); a new upload replaces the previous one' });
    }
    return this.bundlePath(bundleId);
  }

  private bundlePath(bundleId: string): string {
    return join(this.uploads, `${bundleId}.bundle`);
  }

  /** A version's label (`1.4.0`) from the manifest kept beside it, or its number. */
  private async labelOf(version: number): Promise<string> {
    const manifest = join(new OtaLayout(this.deps.root).versionsDir, `${version}.manifest.json`);
    const label = await readFile(manifest, 'utf8').then((text) => (JSON.parse(text) as { label?: unknown }).label, () => undefined);
    return typeof label === 'string' ? label : String(version);
  }

  private versions(): OtaVersions {
    return new OtaVersions(this.deps.root, this.deps.log);
  }

  private installer(onProgress?: (event: ProgressEvent) => void): Installer {
    const { config } = this.deps;
    return new Installer({
      root: this.deps.root,
      shippedKeyset: this.deps.shippedKeyset ?? loadKeysetFile(config.trustedKeysFile ?? SHIPPED_KEYS_FILE),
      device: { appId: config.appId, model: config.model, arch: config.arch ?? process.arch },
      clock: this.deps.clock,
      launcher: this.deps.launcher ?? (config.restartCommand ? new RestartCommandLauncher(config.restartCommand) : new EntrypointLauncher()),
      log: this.deps.log,
      markGoodTimeoutMs: config.markGoodTimeoutMs,
      skewSeconds: config.clockSkewSeconds,
      reserveBytes: config.reserveBytes,
      limits: { maxBundleBytes: config.maxBundleBytes },
      ...(onProgress && { onProgress }),
    });
  }
}

/** The installer's phases as the contract names them; `rollback` is reported once, as `failed` with the reason. */
const PHASES: Record<ProgressEvent['phase'], Phase | undefined> = {
  verify: 'verifying',
  'check-space': 'verifying',
  extract: 'staging',
  switch: 'switching',
  trial: 'switching',
  rollback: undefined,
  done: 'done',
};
