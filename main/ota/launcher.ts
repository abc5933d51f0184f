import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { OtaError } from './reasons.js';

/** A started version. `exited` settles if it stops on its own before the installer lets go. */
export interface RunningVersion {
  readonly exited: Promise<number | null>;
  /** Stops it (used when it failed its trial). */
  stop(): Promise<void>;
  /** Lets it keep running after the installer exits. */
  detach(): void;
}

export interface VersionLauncher {
  start(request: { root: string; version: number; dir: string; entrypoint: string }): Promise<RunningVersion>;
}

/** Env a started version gets, so it can find the OTA root and mark itself good. */
export const ENV_OTA_ROOT = 'FIELDGATE_OTA_ROOT';
export const ENV_OTA_VERSION = 'FIELDGATE_OTA_VERSION';

/**
 * Starts `<version dir>/<entrypoint>` with this Node binary, in its own process group, with its
 * output appended to `<root>/state/logs/<version>.log`. Used when fieldgate supervises itself.
 */
export class EntrypointLauncher implements VersionLauncher {
  constructor(private readonly deps: { env?: NodeJS.ProcessEnv } = {}) {}

  async start(request: { root: string; version: number; dir: string; entrypoint: string }): Promise<RunningVersion> {
    const logDir = join(request.root, 'state', 'logs');
    mkdirSync(logDir, { recursive: true });
    const logFd = openSync(join(logDir, `${request.version}.log`), 'a', 0o640);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [join(request.dir, request.entrypoint)], {
        cwd: request.dir,
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: { ...(this.deps.env ?? process.env), [ENV_OTA_ROOT]: request.root, [ENV_OTA_VERSION]: String(request.version) },
      });
    } finally {
      closeSync(logFd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new OtaError('launch-failed', `could not start version ${request.version}: ${error.message}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return {
      exited,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        killGroup(child, 'SIGTERM');
        const stopped = await Promise.race([exited.then(() => true), delay(5000).then(() => false)]);
        if (!stopped) {
          killGroup(child, 'SIGKILL');
          await exited;
        }
      },
      detach: () => child.unref(),
    };
  }
}

/**
 * For a box where systemd (or another supervisor) runs `<root>/current`: switching versions means
 * running a restart command, e.g. `systemctl restart fieldgate`. The new version marks itself good.
 */
export class RestartCommandLauncher implements VersionLauncher {
  constructor(private readonly command: readonly string[]) {}

  async start(request: { version: number }): Promise<RunningVersion> {
    const [file, ...args] = this.command;
    if (file === undefined) throw new OtaError('launch-failed', 'ota.restartCommand is empty');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(file, args, { stdio: 'ignore' });
      child.once('error', (error) => reject(new OtaError('launch-failed', `"${this.command.join(' ')}" failed: ${error.message}`)));
      child.once('exit', resolve);
    });
    if (code !== 0) throw new OtaError('launch-failed', `"${this.command.join(' ')}" exited with ${code} while starting version ${request.version}`);
    return { exited: new Promise(() => undefined), stop: async () => undefined, detach: () => undefined };
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
