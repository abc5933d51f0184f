import type { BufferStats, DropRecord } from '../../../main/buffer/types.js';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

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

interface TtlPhase {
  stats: BufferStats;
  counters: Record<string, number>;
  alerts: string[];
}

interface TtlFailing {
  pid: number;
  failedAt: number;
  pruned: number;
  before: TtlPhase;
  after: TtlPhase;
}

interface TtlRecovered {
  pruned: number;
  /** Just before the prune. */
  counters: Record<string, number>;
  recovered: TtlPhase & { dropRecords: DropRecord[] };
}

const COMMITS = 'fieldgate_buffer_commit_seconds_count';
const storageErrors = (counters: Record<string, number>) =>
  (counters['fieldgate_buffer_storage_errors_total{kind="io-error"}'] ?? 0) + (counters['fieldgate_buffer_storage_errors_total{kind="disk-full"}'] ?? 0);

/** Starts `childFile` under a 256 KiB file size limit; `next` waits for its next JSON line. */
function startLimited(childFile: string) {
  const child = fileURLToPath(new URL(childFile, import.meta.url));
  // Soft limit only: the child's owner may raise it again without privileges.
  const proc = spawn('prlimit', ['--fsize=262144:unlimited', process.execPath, child, join(dir, `${basename(childFile, '.js')}.db`)], { stdio: ['pipe', 'pipe', 'pipe'] });
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
  /** Raises the limit ("space returns") and tells the child. */
  const makeSpace = async (pid: number) => {
    await promisify(execFile)('prlimit', [`--pid=${pid}`, '--fsize=unlimited:unlimited']);
    proc.stdin.write('space\n');
  };
  const kill = async () => {
    proc.kill('SIGKILL');
    await exited;
  };
  return { next, makeSpace, kill };
}

describe('buffer under real write errors (RLIMIT_FSIZE: the kernel refuses writes past 256 KiB)', () => {
  it('keeps running, drops and alerts while writes fail, and recovers when space returns', async () => {
    const { next, makeSpace, kill } = startLimited('./file-limit-child.js');
    try {
      const failing = await next<Failing>();
      assert.ok(failing.failedAt > 0, 'writes failed once the file limit was reached');
      assert.equal(failing.alerts.length, 1, 'one alert for the episode');
      assert.ok(['disk-full', 'io-error'].includes(failing.alerts[0] as string), `alert ${failing.alerts[0]}`);
      assert.ok(failing.stats.drops['io-error'] >= 50);
      assert.equal(failing.stats.depth, failing.failedAt - 1, 'depth counts exactly the readings accepted before the failures');

      await makeSpace(failing.pid);
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
      await kill();
    }
  });

  it('accounts a TTL prune whose write fails like any failed group commit, and prunes once space returns', async () => {
    const { next, makeSpace, kill } = startLimited('./ttl-prune-child.js');
    try {
      const failing = await next<TtlFailing>();
      assert.ok(failing.failedAt > 0, 'writes failed once the file limit was reached');
      assert.equal(failing.pruned, 0, 'nothing could be deleted');
      assert.equal(failing.after.stats.depth, failing.before.stats.depth, 'the expired readings are still there, not lost');
      assert.equal(failing.after.stats.drops.ttl, 0);
      assert.ok(storageErrors(failing.after.counters) > storageErrors(failing.before.counters), 'the failed prune write is counted as a storage error');
      assert.equal(failing.after.counters[COMMITS], failing.before.counters[COMMITS], 'no group commit was written');
      assert.deepEqual(failing.after.alerts, failing.before.alerts, 'the same storage episode: no second alert');
      assert.equal(failing.after.alerts.length, 1);

      await makeSpace(failing.pid);
      const { pruned, counters, recovered } = await next<TtlRecovered>();
      assert.equal(pruned, failing.before.stats.depth, 'every expired reading is pruned once writes work');
      assert.equal(recovered.stats.depth, 0);
      assert.equal(recovered.stats.drops.ttl, pruned);
      assert.equal(recovered.counters[COMMITS], (counters[COMMITS] as number) + 1, 'the prune was written as one group commit');
      assert.deepEqual(
        recovered.dropRecords.filter((r) => r.reason === 'ttl').map((r) => [r.firstSeq, r.lastSeq, r.count]),
        [[1, pruned, pruned]],
      );
      const lost = recovered.dropRecords.filter((r) => r.reason === 'io-error').reduce((sum, r) => sum + r.count, 0);
      assert.equal(lost, recovered.stats.drops['io-error'], 'the readings lost while writes failed are described too');
    } finally {
      await kill();
    }
  });
});
