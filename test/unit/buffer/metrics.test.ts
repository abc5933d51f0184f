import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerBufferMetrics } from '../../../main/buffer/metrics.js';
import type { BufferStats } from '../../../main/buffer/types.js';

describe('registerBufferMetrics', () => {
  it('reads the gauges from the stats at scrape time and starts every labelled counter at 0', async () => {
    const registry = new Registry();
    let stats: BufferStats = {
      depth: 3,
      bytes: 300,
      inFlight: 1,
      oldestUnsentAgeMs: 2_500,
      drops: { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 },
      pendingDropRecords: 2,
    };
    const metrics = registerBufferMetrics(registry, { stats: () => stats }, { now: () => 0 });
    const text = await registry.metrics();
    for (const line of [
      'fieldgate_buffer_depth 3',
      'fieldgate_buffer_bytes 300',
      'fieldgate_buffer_in_flight 1',
      'fieldgate_buffer_oldest_unsent_age_seconds 2.5',
      'fieldgate_buffer_pending_drop_records 2',
      'fieldgate_buffer_appended_total 0',
      'fieldgate_buffer_drops_total{reason="refused"} 0',
      'fieldgate_buffer_storage_errors_total{kind="disk-full"} 0',
      'fieldgate_buffer_commit_seconds_count 0',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing "${line}"`);
    }
    stats = { ...stats, depth: 0, oldestUnsentAgeMs: null };
    metrics.drops.inc({ reason: 'ttl' }, 4);
    const later = (await registry.metrics()).split('\n');
    assert.ok(later.includes('fieldgate_buffer_depth 0'));
    assert.ok(later.includes('fieldgate_buffer_oldest_unsent_age_seconds 0'), 'no unsent reading reads as 0');
    assert.ok(later.includes('fieldgate_buffer_drops_total{reason="ttl"} 4'));
  });
});
