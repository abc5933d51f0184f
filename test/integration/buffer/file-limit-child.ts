// Child process for the I/O-error test, started under `prlimit --fsize=N` so the kernel refuses
// writes past N bytes in any file (EFBIG, a real write error SQLite reports as SQLITE_IOERR_WRITE or
// SQLITE_FULL). Appends until writes fail and keeps going for a while, prints what it saw, waits until
// the parent raised the limit (space came back), appends again and prints the outcome.
// Usage: node file-limit-child.js <file>
import type { BufferAlert } from '../../../main/buffer/types.js';
import { Registry } from 'prom-client';
import { ReadingDroppedError } from '../../../main/buffer/errors.js';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { exitWithParent } from './exit-with-parent.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';

exitWithParent();

// Without a handler the kernel's SIGXFSZ would kill the process instead of failing the write.
process.on('SIGXFSZ', () => {});

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: file-limit-child.js <file>');
let now = Date.UTC(2026, 0, 1);
const alerts: BufferAlert[] = [];
const buffer = new SqliteBuffer({
  file,
  options: bufferSchema.parse({ fullPolicy: 'drop-newest', commitWindowMs: 1 }),
  log: silentLogger,
  clock: { now: () => now },
  metrics: new Registry(),
  onAlert: (alert) => alerts.push(alert),
});
await buffer.start(new AbortController().signal);

async function append(i: number): Promise<'ok' | string> {
  try {
    await buffer.append({ sensorId: 'a', ts: now, values: { counter: { value: i, unit: '1' }, pad: { value: i, unit: 'x'.repeat(200) } } });
    return 'ok';
  } catch (error) {
    if (error instanceof ReadingDroppedError) return error.reason;
    throw error;
  }
}

let i = 0;
let accepted = 0;
let failedAt = -1;
while (i < 50_000) {
  const outcome = await append(i++);
  if (outcome === 'ok') accepted++;
  else if (failedAt < 0) failedAt = i;
  if (failedAt >= 0 && i - failedAt >= 50) break;
}
process.stdout.write(`${JSON.stringify({ phase: 'failing', pid: process.pid, failedAt, stats: buffer.stats(now), alerts: alerts.map((a) => a.kind) })}\n`);

// The parent raises the file size limit ("space returns"), then says so on stdin.
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();
now += 60_000;
let recoveredAfter = -1;
for (let tries = 1; tries <= 500; tries++) {
  if ((await append(i++)) === 'ok') {
    recoveredAfter = tries;
    accepted++;
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const stats = buffer.stats(now);
const leased = buffer.lease({ max: 1_000_000 }).map((reading) => reading.seq);
const dropRecords = buffer.dropRecords(100);
await buffer.stop();
process.stdout.write(
  `${JSON.stringify({ phase: 'recovered', appended: i, accepted, recoveredAfter, stats, alerts: alerts.map((a) => a.kind), leased, dropRecords })}\n`,
);
