import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnTied } from './tied-spawn.js';

const SCRIPT = fileURLToPath(new URL('../../../test/helpers/modbus-peer.py', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

/** Register tables of one unit, zero-based; a read past a table's end gets exception 2. */
export interface UnitTables {
  holding?: number[];
  input?: number[];
  coils?: (0 | 1)[];
  discrete?: (0 | 1)[];
}

/**
 * A Modbus peer made of Debian's python3-pymodbus (an implementation independent of ours): a
 * TCP server on a loopback port, or RTU slaves on a pty. Only the units given answer. Started
 * under `setpriv --pdeathsig KILL`, so it never outlives the test.
 */
export class ModbusPeer {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(private readonly mode: 'tcp' | 'rtu', private readonly where: number | string) {}

  /** Starts serving `units` (again, after stop(): same port or pty); resolves once it serves. */
  async start(units: Record<number, UnitTables>): Promise<void> {
    if (this.child) throw new Error('the Modbus peer is already running');
    this.output = '';
    const child = spawnTied('/usr/bin/python3', [SCRIPT, this.mode, String(this.where), JSON.stringify(units)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (text: string): void => {
      this.output = (this.output + text).slice(-8000);
    };
    child.stderr?.setEncoding('utf8').on('data', collect);
    child.stdout?.setEncoding('utf8').on('data', collect);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.output.includes('ready')) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the Modbus peer exited: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`the Modbus peer was not ready within ${READY_TIMEOUT_MS} ms: ${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills the peer (as a power cut would) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** What the peer printed (pymodbus logs errors such as the exceptions it answers), for assertion messages. */
  log(): string {
    return this.output;
  }
}
