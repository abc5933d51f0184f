import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBuffer } from '../../../main/buffer/memory-buffer.js';
import { MemoryStore } from '../../../main/buffer/memory-store.js';
import { ScanCache } from '../../../main/buffer/scan-cache.js';
import { emptyChangeSet, type StoredRow } from '../../../main/buffer/store.js';
import { silentLogger } from '../../../main/log/logger.js';
import { bufferConformance } from './conformance.js';

// Tiny windows, so the conformance suite's few rows cross every window boundary.
bufferConformance('MemoryBuffer over ScanCache with tiny windows', async ({ options, clock, alerts }) => {
  const store = new ScanCache(new MemoryStore(), 4, 3);
  return {
    open: async (changed) => new MemoryBuffer({ options: changed ?? options, clock, log: silentLogger, onAlert: (alert) => alerts.push(alert) }, store),
    cleanup: async () => {},
  };
});

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * below);
  };
}

const row = (id: number): StoredRow => ({ id, sensorId: `s${id % 3}`, seq: id, ts: id, at: id, size: 10, valuesJson: '{}' });
const ids = (rows: readonly StoredRow[]) => rows.map((r) => r.id);

describe('ScanCache', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`scans exactly like the store it wraps through random inserts, deletes and reopenings (seed ${seed})`, () => {
      const next = random(seed);
      const reference = new MemoryStore();
      const inner = new MemoryStore();
      let cached = new ScanCache(inner, 1 + next(40), 1 + next(20));
      let nextId = 1;
      const live: number[] = [];
      for (let step = 0; step < 1_500; step++) {
        const changes = emptyChangeSet();
        for (let n = next(4); n > 0; n--) {
          changes.inserts.push(row(nextId));
          live.push(nextId);
          nextId += 1 + (next(10) === 0 ? next(50) : 0); // ids may skip (rows refused or dropped before storing)
        }
        for (let n = next(5); n > 0 && live.length > 0; n--) {
          // Mostly the oldest rows (acknowledged in order), sometimes any.
          const index = next(3) === 0 ? next(live.length) : next(Math.min(8, live.length));
          changes.deletes.push(...live.splice(index, 1));
        }
        reference.write(changes);
        cached.write(changes);
        if (next(200) === 0) cached = new ScanCache(inner, 1 + next(40), 1 + next(20)); // a restart on the same store
        for (let scan = 0; scan < 3; scan++) {
          const from = next(nextId + 2);
          const limit = 1 + next(next(2) === 0 ? 5 : 60);
          assert.deepEqual(ids(cached.scanUp(from, limit)), ids(reference.scanUp(from, limit)), `step ${step}: scanUp(${from}, ${limit})`);
          assert.deepEqual(ids(cached.scanDown(from, limit)), ids(reference.scanDown(from, limit)), `step ${step}: scanDown(${from}, ${limit})`);
        }
      }
    });
  }

  it('answers a lease-sized scan of live rows without reading the wrapped store', () => {
    const inner = new MemoryStore();
    const cached = new ScanCache(inner);
    const changes = emptyChangeSet();
    for (let id = 1; id <= 100; id++) changes.inserts.push(row(id));
    cached.write(changes);
    let reads = 0;
    const scanUp = inner.scanUp.bind(inner);
    inner.scanUp = (afterId, limit) => {
      reads++;
      return scanUp(afterId, limit);
    };
    assert.deepEqual(ids(cached.scanUp(40, 5)), [41, 42, 43, 44, 45]);
    assert.equal(reads, 0);
  });

  it('reads a backlog in read-ahead windows, not once per small scan', () => {
    const inner = new MemoryStore();
    const changes = emptyChangeSet();
    for (let id = 1; id <= 1_000; id++) changes.inserts.push(row(id));
    inner.write(changes);
    const cached = new ScanCache(inner, 8, 100);
    let reads = 0;
    const scanUp = inner.scanUp.bind(inner);
    inner.scanUp = (afterId, limit) => {
      reads++;
      return scanUp(afterId, limit);
    };
    const seen: number[] = [];
    for (let after = 0; after < 1_000; after += 10) seen.push(...ids(cached.scanUp(after, 10)));
    assert.deepEqual(seen, Array.from({ length: 1_000 }, (_, i) => i + 1));
    assert.equal(reads, 10);
  });
});
