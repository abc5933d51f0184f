import { spawnTied } from './tied-spawn.js';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../main/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `fieldgate` CLI to completion in a real child process. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawnTied(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** A long-running CLI child whose stdout JSON log lines can be awaited. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private readonly waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawnTied(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.match(line)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
  }

  /** Resolves with the first line (past or future) that contains `text`. */
  waitForLine(text: string, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find((line) => line.includes(text));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line containing ${JSON.stringify(text)} within ${timeoutMs} ms; got:\n${this.lines.join('\n')}`)), timeoutMs);
      this.waiters.push({ match: (line) => line.includes(text), resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  }

  /** JSON log records (non-JSON lines are skipped). */
  records(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async exit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return { code: this.child.exitCode, signal: this.child.signalCode };
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const [code, signal] = (await once(this.child, 'exit')) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    return { code, signal };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
