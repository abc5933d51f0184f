import type { BufferAlert } from '../../../main/buffer/types.js';
import type { BufferConfig } from '../../../main/shared/config/buffer.js';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Database } from '../../../main/sqlite/driver.js';
import { Registry } from 'prom-client';
import { ReadingDroppedError } from '../../../main/buffer/errors.js';
import { LATEST_VERSION } from '../../../main/buffer/migrations.js';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';
import { manualClock, sample } from '../../unit/buffer/conformance.js';

const dirs: string[] = [];
const running: SqliteBuffer[] = [];

afterEach(async () => {
  for (const buffer of running.splice(0)) await buffer.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-buffer-'));
  dirs.push(dir);
  return dir;
}

function create(file: string, config: Partial<BufferConfig> = {}, metrics = new Registry()) {
  const alerts: BufferAlert[] = [];
  const clock = manualClock();
  const buffer = new SqliteBuffer({
    file,
    options: bufferSchema.parse({ commitWindowMs: 1, ...config }),
    log: silentLogger,
    clock,
    metrics,
    onAlert: (alert) => alerts.push(alert),
  });
  return { buffer, alerts, clock, metrics };
}

async function start(file: string, config: Partial<BufferConfig> = {}) {
  const made = create(file, config);
  await made.buffer.start(new AbortController().signal);
  running.push(made.buffer);
  return made;
}

async function stop(buffer: SqliteBuffer): Promise<void> {
  running.splice(running.indexOf(buffer), 1);
  await buffer.stop();
}

/** Appends until `count` readings of each outcome happened or `limit` tries; returns the outcome per try. */
async function appendUntil(buffer: SqliteBuffer, sensor: string, ts: number, stop: (outcome: 'ok' | ReadingDroppedError) => boolean, limit = 20_000) {
  const outcomes: Array<'ok' | ReadingDroppedError> = [];
  for (let i = 0; i < limit; i++) {
    const outcome = await buffer.append(sample(sensor, ts, i)).then(
      () => 'ok' as const,
      (error: unknown) => {
        if (error instanceof ReadingDroppedError) return error;
        throw error;
      },
    );
    outcomes.push(outcome);
    if (stop(outcome)) return outcomes;
  }
  throw new Error(`no stop condition after ${limit} appends`);
}

describe('SqliteBuffer storage', () => {
  it('quarantines a file that is not a database, starts fresh and raises an alert', async () => {
    const dir = tempDir();
    const file = join(dir, 'buffer.db');
    const garbage = Buffer.alloc(16_384, 'not a database, just bytes ');
    writeFileSync(file, garbage);
    const { buffer, alerts, clock } = await start(file);

    const quarantined = readdirSync(dir).filter((name) => name.startsWith('buffer.db.corrupt-'));
    assert.equal(quarantined.length, 1);
    assert.deepEqual(readFileSync(join(dir, quarantined[0] as string)), garbage, 'the damaged file is kept byte for byte');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.kind, 'corrupt-quarantined');
    assert.equal(alerts[0]?.severity, 'critical');
    assert.match(alerts[0]?.message ?? '', new RegExp(`kept it as .*${quarantined[0]}`));
    assert.match(alerts[0]?.message ?? '', /restart at 1/);
    assert.equal((await buffer.append(sample('a', clock.now()))).seq, 1);
  });

  it('quarantines a database with a damaged page and carries the seqs it can still read over', async () => {
    const dir = tempDir();
    const file = join(dir, 'buffer.db');
    const first = await start(file);
    for (let i = 0; i < 3_000; i++) void first.buffer.append(sample(i % 2 ? 'a' : 'b', first.clock.now(), i));
    await first.buffer.flush();
    await stop(first.buffer);

    // Overwrite the page before last (a readings leaf) with garbage; sensor_seq's root page (3) stays intact.
    const pageSize = 4096;
    const pages = statSync(file).size / pageSize;
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (pages - 2) * pageSize);
    closeSync(fd);

    const { buffer, alerts, clock } = await start(file);
    assert.equal(alerts[0]?.kind, 'corrupt-quarantined');
    assert.match(alerts[0]?.message ?? '', /seq numbers carried over for 2 sensor/);
    assert.equal(readdirSync(dir).filter((name) => name.startsWith('buffer.db.corrupt-')).length, 1, 'only the damaged file is kept, no empty -wal/-shm');
    assert.equal(buffer.stats(clock.now()).depth, 0, 'a fresh buffer');
    assert.equal((await buffer.append(sample('a', clock.now()))).seq, 1_501);
    assert.equal((await buffer.append(sample('b', clock.now()))).seq, 1_501);
  });

  it('quarantines a file found corrupt while running and carries on with the same seqs', async () => {
    const dir = tempDir();
    const file = join(dir, 'buffer.db');
    const { buffer, alerts, clock } = await start(file, { synchronous: 'normal' });
    // Far more than the 8 MB page cache, so the oldest pages are read from disk again.
    for (let chunk = 0; chunk < 15; chunk++) {
      await Promise.all(Array.from({ length: 10_000 }, (_, i) => buffer.append(sample(i % 2 ? 'a' : 'b', clock.now(), i))));
    }
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(1_000 * 4096, 0xa5), 0, 1_000 * 4096, 4 * 4096);
    closeSync(fd);

    assert.deepEqual(buffer.lease({ max: 10 }), [], 'the damaged pages cannot be leased');
    assert.deepEqual(
      alerts.map((a) => a.kind),
      ['corrupt-quarantined'],
    );
    assert.match(alerts[0]?.message ?? '', /while running .* with 150000 unsent reading\(s\)/);
    assert.equal(readdirSync(dir).filter((name) => name.startsWith('buffer.db.corrupt-') && !name.endsWith('-wal')).length, 1);
    assert.equal(buffer.stats(clock.now()).drops['io-error'], 150_000);

    const next = await buffer.append(sample('a', clock.now()));
    assert.equal(next.seq, 75_001, 'seqs continue where the damaged file left off');
    assert.deepEqual(
      buffer.lease({ max: 10 }).map((r) => `${r.sensorId}#${r.seq}`),
      ['a#75001'],
    );
    assert.equal(buffer.stats(clock.now()).depth, 1);
  });

  it('refuses a file from a newer schema without touching it', async () => {
    const dir = tempDir();
    const file = join(dir, 'buffer.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const before = readFileSync(file);
    const { buffer, alerts } = create(file);
    await assert.rejects(buffer.start(new AbortController().signal), new RegExp(`schema version 99, newer than this fieldgate knows \\(${LATEST_VERSION}\\)`));
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(readdirSync(dir), ['buffer.db']);
    assert.deepEqual(alerts, []);
  });

  it('refuses a second buffer on a file another one holds open', async () => {
    const file = join(tempDir(), 'buffer.db');
    await start(file);
    const second = create(file);
    await assert.rejects(second.buffer.start(new AbortController().signal), /is in use by another process/);
  });

  it('on a full disk with drop-newest: keeps running, drops and alerts, and recovers once acks free space', async () => {
    const file = join(tempDir(), 'buffer.db');
    const { buffer, alerts, clock } = await start(file, { maxFileBytes: 256 * 1024, fullPolicy: 'drop-newest' });
    const filled = await appendUntil(buffer, 'a', clock.now(), (outcome) => outcome !== 'ok');
    const lost = filled.at(-1) as ReadingDroppedError;
    assert.equal(lost.reason, 'io-error');
    assert.deepEqual(
      alerts.map((a) => a.kind),
      ['disk-full'],
    );
    const storedBefore = filled.length - 1;
    assert.equal(buffer.stats(clock.now()).depth, storedBefore);

    // Still full: more readings are dropped (a source's accept() still resolves), the alert is not repeated.
    await assert.rejects(buffer.append(sample('a', clock.now())), ReadingDroppedError);
    await buffer.accept(sample('a', clock.now()));
    assert.equal(alerts.length, 1);

    // The uplink delivers half of the backlog: space comes back.
    const leased = buffer.lease({ max: Math.floor(storedBefore / 2) });
    buffer.ack(leased.map((r) => r.id));
    await buffer.flush();
    clock.advance(30_000);
    const next = await buffer.append(sample('a', clock.now()));
    assert.equal(next.seq, storedBefore + 4, 'the three lost readings used seqs: the cloud sees a gap');
    assert.deepEqual(
      alerts.map((a) => a.kind),
      ['disk-full', 'recovered'],
    );
    const stats = buffer.stats(clock.now());
    assert.equal(stats.drops['io-error'], 3);
    assert.equal(stats.depth, storedBefore - leased.length + 1);
    assert.deepEqual(
      buffer.dropRecords(10).map((r) => [r.sensorId, r.reason, r.firstSeq, r.lastSeq, r.count]),
      [['a', 'io-error', storedBefore + 1, storedBefore + 3, 3]],
      'the gap is explained by a drop record',
    );
  });

  it('on a full disk with drop-oldest: evicts the oldest readings and keeps accepting new ones', async () => {
    const file = join(tempDir(), 'buffer.db');
    const { buffer, alerts, clock } = await start(file, { maxFileBytes: 256 * 1024, fullPolicy: 'drop-oldest' });
    let appended = 0;
    while (!alerts.some((a) => a.kind === 'disk-full')) {
      await buffer.append(sample('a', clock.now(), appended++));
      assert.ok(appended < 20_000, 'the file cap was never reached');
    }
    // Well past the cap: every append is still accepted, the oldest are evicted.
    for (let i = 0; i < 2_000; i++) await buffer.append(sample('a', clock.now(), appended++));
    const stats = buffer.stats(clock.now());
    assert.equal(stats.drops['io-error'], 0, 'no new reading was lost');
    assert.ok(stats.drops.capacity > 0);
    assert.equal(stats.depth + stats.drops.capacity, appended);
    const leased = buffer.lease({ max: appended });
    assert.equal(leased.at(-1)?.seq, appended, 'the newest reading is kept');
    assert.equal(leased[0]?.seq, stats.drops.capacity + 1, 'the oldest readings went first');
    const records = buffer.dropRecords(100);
    assert.equal(
      records.reduce((sum, r) => sum + r.count, 0),
      stats.drops.capacity,
    );
    assert.ok(records.every((r) => r.reason === 'capacity'));
    assert.deepEqual(
      alerts.map((a) => a.kind),
      ['disk-full'],
      'working at the limit is one episode, not an alert per eviction',
    );
  });

  it('keeps depth and bytes across a restart and exports them as metrics', async () => {
    const file = join(tempDir(), 'buffer.db');
    const first = await start(file, { maxRows: 4 });
    for (let i = 0; i < 6; i++) await first.buffer.append(sample('a', first.clock.now(), i));
    const before = first.buffer.stats(first.clock.now());
    await stop(first.buffer);

    const { buffer, clock, metrics } = await start(file, { maxRows: 4 });
    const after = buffer.stats(clock.now());
    assert.equal(after.depth, 4);
    assert.equal(after.bytes, before.bytes);
    await buffer.append(sample('a', clock.now()));
    const text = await metrics.metrics();
    assert.match(text, /^fieldgate_buffer_depth 4$/m);
    assert.match(text, new RegExp(`^fieldgate_buffer_bytes ${buffer.stats(clock.now()).bytes}$`, 'm'));
    assert.match(text, /^fieldgate_buffer_appended_total 1$/m);
    assert.match(text, /^fieldgate_buffer_drops_total\{reason="capacity"\} 1$/m);
    assert.match(text, /^fieldgate_buffer_drops_total\{reason="ttl"\} 0$/m);
    assert.match(text, /^fieldgate_buffer_pending_drop_records 2$/m);
    assert.match(text, /^fieldgate_buffer_oldest_unsent_age_seconds 0$/m);
    assert.match(text, /^fieldgate_buffer_commit_seconds_count [1-9]\d*$/m);
  });
});
