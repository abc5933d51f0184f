import type { BufferAlert, ReadingBuffer } from '../../../main/buffer/types.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';
import { systemClock } from '../../../main/shared/clock.js';

const child = fileURLToPath(new URL('./append-child.js', import.meta.url));
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-crash-'));
  dirs.push(dir);
  return join(dir, 'buffer.db');
}

/** Runs the child until it printed `count` accepted readings, then SIGKILLs it; returns the accepted "<sensor> <seq>" lines. */
async function appendThenKill(file: string, synchronous: 'full' | 'normal', count: number, ack = false, bootId = 'boot-1'): Promise<string[]> {
  const proc = spawn(process.execPath, [child, file, synchronous, ...(ack ? ['ack'] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BOOT_ID: bootId },
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child accepted too few readings in 60 s; stderr: ${err}`)), 60_000);
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.split('\n').length > count + 1) {
          clearTimeout(timer);
          proc.kill('SIGKILL');
          resolve();
        }
      });
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal !== 'SIGKILL') reject(new Error(`child exited early (${code ?? signal}); stderr: ${err}`));
      });
    });
    await new Promise((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve(null) : proc.once('exit', resolve)));
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  // The last line may be cut short by the kill; only complete lines count as printed.
  const lines = out.split('\n').slice(0, -1);
  assert.equal(lines[0], 'ready');
  return lines.slice(1);
}

async function open(file: string, bootId = 'boot-1', alerts: BufferAlert[] = []): Promise<SqliteBuffer> {
  const buffer = new SqliteBuffer({
    file,
    options: bufferSchema.parse({}),
    log: silentLogger,
    clock: systemClock,
    metrics: new Registry(),
    bootId: () => bootId,
    onAlert: (alert) => alerts.push(alert),
  });
  await buffer.start(new AbortController().signal);
  return buffer;
}

function stored(buffer: ReadingBuffer): Map<string, number[]> {
  const bySensor = new Map<string, number[]>();
  for (const reading of buffer.lease({ max: 10_000_000 })) {
    const seqs = bySensor.get(reading.sensorId) ?? [];
    seqs.push(reading.seq);
    bySensor.set(reading.sensorId, seqs);
  }
  return bySensor;
}

function maxSeqs(lines: string[]): Map<string, number> {
  const max = new Map<string, number>();
  for (const line of lines) {
    const [sensor, seq] = line.split(' ');
    max.set(sensor as string, Math.max(Number(seq), max.get(sensor as string) ?? 0));
  }
  return max;
}

describe('buffer durability across kill -9 (real child process)', () => {
  for (const synchronous of ['full', 'normal'] as const) {
    it(`keeps every accepted reading and keeps seqs increasing over three crashes (synchronous=${synchronous})`, async () => {
      const file = tempFile();
      const accepted: string[] = [];
      for (let round = 0; round < 3; round++) accepted.push(...(await appendThenKill(file, synchronous, 1_500)));

      const buffer = await open(file);
      try {
        const rows = stored(buffer);
        const present = new Set([...rows].flatMap(([sensor, seqs]) => seqs.map((seq) => `${sensor} ${seq}`)));
        const missing = accepted.filter((line) => !present.has(line));
        assert.deepEqual(missing, [], `${missing.length} of ${accepted.length} accepted readings are missing`);
        assert.equal(new Set(accepted).size, accepted.length, 'no seq was handed out twice, even across crashes');
        for (const [sensor, seqs] of rows) {
          for (let i = 1; i < seqs.length; i++) {
            assert.ok((seqs[i] as number) > (seqs[i - 1] as number), `${sensor}: seqs ascend in lease order`);
          }
        }
        for (const [sensor, max] of maxSeqs(accepted)) {
          const next = await buffer.append({ sensorId: sensor, ts: Date.now(), values: {} });
          assert.ok(next.seq > max, `${sensor}: seq ${next.seq} after restart is above every accepted seq (${max})`);
        }
      } finally {
        await buffer.stop();
      }
    });
  }

  it('keeps seqs increasing after a crash while everything was being acknowledged and deleted', async () => {
    const file = tempFile();
    const accepted = await appendThenKill(file, 'full', 3_000, true);
    const buffer = await open(file);
    try {
      assert.ok(buffer.stats(Date.now()).depth < accepted.length, 'the child acknowledged (deleted) rows before it died');
      for (const [sensor, max] of maxSeqs(accepted)) {
        const next = await buffer.append({ sensorId: sensor, ts: Date.now(), values: {} });
        assert.ok(next.seq > max, `${sensor}: seq ${next.seq} after restart is above every accepted seq (${max})`);
      }
    } finally {
      await buffer.stop();
    }
  });

  describe('synchronous=normal after an unclean stop', () => {
    async function crashed(synchronous: 'full' | 'normal') {
      const file = tempFile();
      const accepted = await appendThenKill(file, synchronous, 500);
      return { file, accepted };
    }

    it('continues right after the last seq when only the process crashed (same boot)', async () => {
      const { file } = await crashed('normal');
      const alerts: BufferAlert[] = [];
      const buffer = await open(file, 'boot-1', alerts);
      try {
        const last = Math.max(...(stored(buffer).get('a') ?? []));
        assert.equal((await buffer.append({ sensorId: 'a', ts: Date.now(), values: {} })).seq, last + 1);
        assert.deepEqual(buffer.dropRecords(10), []);
        assert.deepEqual(alerts, []);
      } finally {
        await buffer.stop();
      }
    });

    it('jumps above the durable reservation after a reboot, explains the gap, and only once', async () => {
      const { file } = await crashed('normal');
      const alerts: BufferAlert[] = [];
      const buffer = await open(file, 'boot-2', alerts);
      let next: number;
      try {
        const last = Math.max(...(stored(buffer).get('a') ?? []));
        next = (await buffer.append({ sensorId: 'a', ts: Date.now(), values: {} })).seq;
        assert.ok(next > last + 1 && next <= last + 1 + 1_000, `seq ${next} jumped above ${last}, by at most the reservation`);
        assert.deepEqual(
          alerts.map((a) => [a.kind, a.severity]),
          [['io-error', 'warning']],
        );
        const gap = buffer.dropRecords(10).find((r) => r.sensorId === 'a');
        assert.deepEqual(gap && [gap.reason, gap.firstSeq, gap.lastSeq, gap.count], ['io-error', last + 1, next - 1, next - 1 - last]);
      } finally {
        await buffer.stop();
      }
      const again = await open(file, 'boot-3');
      try {
        assert.equal((await again.append({ sensorId: 'a', ts: Date.now(), values: {} })).seq, next + 1, 'a clean stop needs no jump');
      } finally {
        await again.stop();
      }
    });

    it('does not jump after a reboot when the last run used synchronous=full', async () => {
      const { file } = await crashed('full');
      const buffer = await open(file, 'boot-2');
      try {
        const last = Math.max(...(stored(buffer).get('a') ?? []));
        assert.equal((await buffer.append({ sensorId: 'a', ts: Date.now(), values: {} })).seq, last + 1);
        assert.deepEqual(buffer.dropRecords(10), []);
      } finally {
        await buffer.stop();
      }
    });
  });
});
