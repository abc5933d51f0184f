import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { StorageFailure } from './errors.js';
import type { BufferStats, DropReason } from './types.js';
import { Counter, Gauge, Histogram } from 'prom-client';

export interface BufferMetrics {
  appended: Counter;
  drops: Counter<'reason'>;
  storageErrors: Counter<'kind'>;
  commitSeconds: Histogram;
}

const DROP_REASONS: DropReason[] = ['capacity', 'ttl', 'io-error', 'refused'];
const FAILURES: StorageFailure[] = ['disk-full', 'io-error'];

/** Registers the fieldgate_buffer_* metrics; gauges read the buffer's in-memory stats when scraped. */
export function registerBufferMetrics(registry: Registry, buffer: { stats(now: number): BufferStats }, clock: Clock): BufferMetrics {
  const gauge = (name: string, help: string, read: (stats: BufferStats) => number | null) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(buffer.stats(clock.now())) ?? 0);
      },
    });
  gauge('fieldgate_buffer_depth', 'Readings held in the buffer (not yet acknowledged by the broker)', (s) => s.depth);
  gauge('fieldgate_buffer_bytes', 'Wire JSON bytes of the readings held in the buffer', (s) => s.bytes);
  gauge('fieldgate_buffer_in_flight', 'Readings leased to the uplink and awaiting PUBACK', (s) => s.inFlight);
  gauge('fieldgate_buffer_oldest_unsent_age_seconds', 'How long the oldest buffered reading has waited (0 when empty)', (s) =>
    s.oldestUnsentAgeMs === null ? 0 : s.oldestUnsentAgeMs / 1000,
  );
  gauge('fieldgate_buffer_pending_drop_records', 'Drop records not yet reported upstream', (s) => s.pendingDropRecords);

  const appended = new Counter({ name: 'fieldgate_buffer_appended_total', help: 'Readings accepted (committed) into the buffer', registers: [registry] });
  const drops = new Counter({ name: 'fieldgate_buffer_drops_total', help: 'Readings dropped, by reason', labelNames: ['reason'], registers: [registry] });
  const storageErrors = new Counter({
    name: 'fieldgate_buffer_storage_errors_total',
    help: 'Failed buffer writes, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: 'fieldgate_buffer_commit_seconds',
    help: 'Duration of successful group commits (fsync included with synchronous=full)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  for (const reason of DROP_REASONS) drops.inc({ reason }, 0);
  for (const kind of FAILURES) storageErrors.inc({ kind }, 0);
  return { appended, drops, storageErrors, commitSeconds };
}
