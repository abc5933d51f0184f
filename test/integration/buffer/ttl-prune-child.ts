// Child process for the TTL-under-I/O-error test, started under `prlimit --fsize=N` like
// file-limit-child.ts: fills the buffer until writes fail, lets every stored reading expire, prunes
// while writes still fail, prints what it saw, waits until the parent raised the limit, prunes
// again and prints the outcome. Usage: node ttl-prune-child.js <file>
import type { BufferAlert } from '../../../main/buffer/types.js';
import { Registry } from 'prom-client';
import { ReadingDroppedError } from '../../../main/buffer/errors.js';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';
import { exitWithParent } from './exit-with-parent.js';

exitWithParent();
process.on('SIGXFSZ', () => {});

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: ttl-prune-child.js <file>');
let now = Date.UTC(2026, 0, 1);
const alerts: BufferAlert[] = [];
const metrics = new Registry();
const buffer = new SqliteBuffer({
  file,
  options: bufferSchema.parse({ fullPolicy: 'drop-newest', commitWindowMs: 1, ttlHours: 1 }),
  log: silentLogger,
  clock: { now: () => now },
  metrics,
  onAlert: (alert) => alerts.push(alert),
});
await buffer.start(new AbortController().signal);

/** The buffer's counters and histogram counts, by sample name and labels. */
async function counters(): Promise<Record<string, number>> {
  const text = await metrics.metrics();
  const found: Record<string, number> = {};
  for (const match of text.matchAll(/^(fieldgate_buffer_(?:storage_errors_total|commit_seconds_count|drops_total)(?:\{[^}]*\})?) (\d+)$/gm)) {
    found[match[1] as string] = Number(match[2]);
  }
  return found;
}

let i = 0;
let failedAt = -1;
while (i < 50_000) {
  try {
    await buffer.append({ sensorId: 'a', ts: now, values: { counter: { value: i, unit: '1' }, pad: { value: i, unit: 'x'.repeat(200) } } });
  } catch (error) {
    if (!(error instanceof ReadingDroppedError)) throw error;
    if (failedAt < 0) failedAt = i + 1;
  }
  i++;
  if (failedAt >= 0 && i - failedAt >= 20) break;
}

// Every stored reading is now older than the TTL.
now += 2 * 3_600_000;
const before = { stats: buffer.stats(now), counters: await counters(), alerts: alerts.map((a) => a.kind) };
const pruned = buffer.prune(now);
const after = { stats: buffer.stats(now), counters: await counters(), alerts: alerts.map((a) => a.kind) };
process.stdout.write(`${JSON.stringify({ phase: 'failing', pid: process.pid, appended: i, failedAt, pruned, before, after })}\n`);

await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();
const recoveredBefore = await counters();
const prunedAfter = buffer.prune(now);
const recovered = { stats: buffer.stats(now), counters: await counters(), alerts: alerts.map((a) => a.kind), dropRecords: buffer.dropRecords(100) };
await buffer.stop();
process.stdout.write(`${JSON.stringify({ phase: 'recovered', pruned: prunedAfter, counters: recoveredBefore, recovered })}\n`);
