import type { BufferStats, DropRecord } from '../../../main/buffer/types.js';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const child = fileURLToPath(new URL('./file-limit-child.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fieldgate-fsize-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Failing {
  pid: number;
  failedAt: number;
  stats: BufferStats;
  alerts: string[];
}

interface Recovered {
  appended: number;
  accepted: number;
  recoveredAfter: number;
  stats: BufferStats;
  alerts: string[];
  leased: number[];
  dropRecords: DropRecord[];
}

describe('buffer under real write errors (RLIMIT_FSIZE: the kernel refuses writes past 256 KiB)', () => {
  it('keeps running, drops and alerts while writes fail, and recovers when space returns', async () => {
    // Soft limit only: the child's owner may raise it again without privileges.
    const proc = spawn('prlimit', ['--fsize=262144:unlimited', process.execPath, child, join(dir, 'buffer.db')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: string[] = [];
    createInterface({ input: proc.stdout }).on('line', (line) => lines.push(line));
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    const next = async <T>(): Promise<T> => {
      const deadline = Date.now() + 90_000;
      while (lines.length === 0) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`child ended early: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`no report from the child in 90 s: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return JSON.parse(lines.shift() as string) as T;
    };
    try {
      const failing = await next<Failing>();
      assert.ok(failing.failedAt > 0, 'writes failed once the file limit was reached');
      assert.equal(failing.alerts.length, 1, 'one alert for the episode');
      assert.ok(['disk-full', 'io-error'].includes(failing.alerts[0] as string), `alert ${failing.alerts[0]}`);
      assert.ok(failing.stats.drops['io-error'] >= 50);
      assert.equal(failing.stats.depth, failing.failedAt - 1, 'depth counts exactly the readings accepted before the failures');

      await promisify(execFile)('prlimit', [`--pid=${failing.pid}`, '--fsize=unlimited:unlimited']);
      proc.stdin.write('space\n');
      const recovered = await next<Recovered>();

      assert.ok(recovered.recoveredAfter > 0, 'appends succeed again once space returned');
      assert.equal(recovered.alerts.at(-1), 'recovered');
      assert.equal(recovered.stats.depth, recovered.accepted);
      assert.equal(recovered.leased.length, recovered.accepted, 'every accepted reading is still there');
      assert.equal(recovered.leased.at(-1), recovered.appended, 'seqs kept counting through the failures');
      const lost = recovered.dropRecords.filter((r) => r.reason === 'io-error').reduce((sum, r) => sum + r.count, 0);
      assert.equal(lost, recovered.stats.drops['io-error'], 'every lost reading is described by a drop record');
      assert.equal(recovered.appended, recovered.accepted + recovered.stats.drops['io-error']);
    } finally {
      proc.kill('SIGKILL');
      await exited;
    }
  });
});
