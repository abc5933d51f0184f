import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitAppends } from '../../../main/buffer/capacity-policy.js';
import { Leases } from '../../../main/buffer/leases.js';
import { MemoryStore } from '../../../main/buffer/memory-store.js';
import type { StoredRow } from '../../../main/buffer/store.js';

const row = (id: number, size = 10): StoredRow => ({ id, sensorId: 's', seq: id, ts: id, at: id, size, valuesJson: '{}' });
const items = (...sizes: number[]) => sizes.map((size, index) => ({ name: `new${index + 1}`, size }));

function storeWith(count: number): MemoryStore {
  const store = new MemoryStore();
  store.write({ inserts: Array.from({ length: count }, (_, index) => row(index + 1)), deletes: [], seqs: [], dropRecords: [] });
  return store;
}

describe('fitAppends', () => {
  it('drop-newest refuses what does not fit and evicts nothing', () => {
    const store = storeWith(3);
    const outcome = fitAppends({
      appends: items(10, 10, 10),
      rows: 3,
      bytes: 30,
      limits: { maxRows: 5, maxBytes: 1_000, fullPolicy: 'drop-newest' },
      extraEvictions: 0,
      store,
      keep: new Leases(),
    });
    assert.deepEqual(
      outcome.accepted.map((item) => item.name),
      ['new1', 'new2'],
    );
    assert.deepEqual(
      outcome.refused.map((item) => item.name),
      ['new3'],
    );
    assert.deepEqual(outcome.evicted, []);
  });

  it('drop-newest also refuses by bytes, letting a later smaller reading in', () => {
    const outcome = fitAppends({
      appends: items(50, 200, 50),
      rows: 0,
      bytes: 0,
      limits: { maxRows: 10, maxBytes: 120, fullPolicy: 'drop-newest' },
      extraEvictions: 0,
      store: new MemoryStore(),
      keep: new Leases(),
    });
    assert.deepEqual(
      outcome.accepted.map((item) => item.name),
      ['new1', 'new3'],
    );
    assert.deepEqual(
      outcome.refused.map((item) => item.name),
      ['new2'],
    );
  });

  it('drop-oldest evicts the oldest rows that are not in flight, by rows and by bytes', () => {
    const store = storeWith(6);
    const leases = new Leases();
    leases.lease(store, { max: 1 });
    const byRows = fitAppends({
      appends: items(10, 10),
      rows: 6,
      bytes: 60,
      limits: { maxRows: 6, maxBytes: 1_000, fullPolicy: 'drop-oldest' },
      extraEvictions: 0,
      store,
      keep: leases,
    });
    assert.deepEqual(
      byRows.evicted.map((r) => r.id),
      [2, 3],
    );
    assert.equal(byRows.accepted.length, 2);
    assert.deepEqual(byRows.refused, []);

    const byBytes = fitAppends({
      appends: items(25),
      rows: 6,
      bytes: 60,
      limits: { maxRows: 100, maxBytes: 70, fullPolicy: 'drop-oldest' },
      extraEvictions: 0,
      store,
      keep: leases,
    });
    assert.deepEqual(
      byBytes.evicted.map((r) => r.id),
      [2, 3],
    );
  });

  it('drop-oldest evicts extra rows on request even when the new readings fit', () => {
    const outcome = fitAppends({
      appends: [],
      rows: 5,
      bytes: 50,
      limits: { maxRows: 100, maxBytes: 1_000, fullPolicy: 'drop-oldest' },
      extraEvictions: 3,
      store: storeWith(5),
      keep: new Leases(),
    });
    assert.deepEqual(
      outcome.evicted.map((r) => r.id),
      [1, 2, 3],
    );
  });

  it('drop-oldest refuses the oldest new readings only when every stored row is in flight', () => {
    const store = storeWith(2);
    const leases = new Leases();
    leases.lease(store, { max: 2 });
    const outcome = fitAppends({
      appends: items(10, 10, 10),
      rows: 2,
      bytes: 20,
      limits: { maxRows: 3, maxBytes: 1_000, fullPolicy: 'drop-oldest' },
      extraEvictions: 0,
      store,
      keep: leases,
    });
    assert.deepEqual(outcome.evicted, []);
    assert.deepEqual(
      outcome.refused.map((item) => item.name),
      ['new1', 'new2'],
    );
    assert.deepEqual(
      outcome.accepted.map((item) => item.name),
      ['new3'],
    );
  });
});
