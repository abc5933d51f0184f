import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * Spawns a helper (broker, pty pair, bus, gateway) that the kernel kills when this test process
 * dies, even by SIGKILL or a native abort that skips `after` hooks: nothing outlives a crashed test
 * file. setpriv sets the parent-death signal, then execs the command under the same pid.
 */
export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  if (!existsSync(SETPRIV)) return spawn(command, args, options);
  return spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], options);
}
