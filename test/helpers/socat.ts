import { spawnTied } from './tied-spawn.js';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LINK_TIMEOUT_MS = 15_000;

/**
 * A pair of connected pseudo-terminals made by socat: what is written to `a` is read from `b`
 * and back, like two serial ports joined by a null-modem cable. `unplug` kills socat (both links
 * disappear, open file descriptors hang up); `replug` starts it again at the same link paths.
 */
export class SocatPair {
  readonly dir: string;
  readonly a: string;
  readonly b: string;
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'fieldgate-pty-'));
    this.a = join(this.dir, 'A');
    this.b = join(this.dir, 'B');
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('socat is already running');
    this.stderr = '';
    const child = spawnTied('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-4000);
    });
    const deadline = Date.now() + LINK_TIMEOUT_MS;
    while (!(existsSync(this.a) && existsSync(this.b) && this.stderr.includes('starting data transfer loop'))) {
      if (hasExited(child)) throw new Error(`socat exited (${child.exitCode ?? child.signalCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`socat links did not appear within ${LINK_TIMEOUT_MS} ms: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills socat and waits until it is gone and its links are removed. */
  async unplug(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && !hasExited(child)) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // socat removes its links on a clean exit; make sure a SIGKILL leaves none either.
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
  }

  async replug(): Promise<void> {
    await this.unplug();
    await this.start();
  }

  /** Stops socat and removes the temp directory; safe to call more than once. */
  async dispose(): Promise<void> {
    await this.unplug();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
