// Child process for the crash test: appends without pause and prints "<sensor> <seq>" for every
// append whose group commit returned, until the parent kills it with SIGKILL. Stdout is a pipe,
// which Node writes synchronously on Linux, so every printed line left the process before the next append.
// Usage: node append-child.js <file> <full|normal> [ack]   (env BOOT_ID pretends a boot id)
import { Registry } from 'prom-client';
import { currentBootId } from '../../../main/buffer/seq-guard.js';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { exitWithParent } from './exit-with-parent.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';
import { systemClock } from '../../../main/shared/clock.js';

exitWithParent();

const [file, synchronous, ack] = process.argv.slice(2);
if (!file || (synchronous !== 'full' && synchronous !== 'normal')) {
  console.error('usage: append-child.js <file> <full|normal> [ack]');
  process.exit(2);
}

const buffer = new SqliteBuffer({
  file,
  options: bufferSchema.parse({ synchronous, commitWindowMs: 2 }),
  log: silentLogger,
  clock: systemClock,
  metrics: new Registry(),
  bootId: () => process.env.BOOT_ID ?? currentBootId(),
});
await buffer.start(new AbortController().signal);
process.stdout.write('ready\n');

async function appendForever(sensorId: string): Promise<never> {
  for (let i = 0; ; i++) {
    const reading = await buffer.append({ sensorId, ts: Date.now(), values: { counter: { value: i, unit: '1' } } });
    process.stdout.write(`${reading.sensorId} ${reading.seq}\n`);
  }
}

if (ack === 'ack') {
  // Acknowledge everything soon after it is stored, so the crash also hits rows being deleted.
  setInterval(() => buffer.ack(buffer.lease({ max: 10_000 }).map((reading) => reading.id)), 5);
}
for (const sensorId of ['a', 'b', 'c']) for (let worker = 0; worker < 4; worker++) void appendForever(sensorId);
