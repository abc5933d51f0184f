import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../main/buffer/memory-store.js';
import { migrate } from '../../../main/buffer/migrations.js';
import { SqliteStore } from '../../../main/buffer/sqlite-store.js';
import type { StoredRow } from '../../../main/buffer/store.js';
import { Database } from '../../../main/sqlite/driver.js';

const row = (id: number): StoredRow => ({ id, sensorId: `s${id % 3}`, seq: id, ts: id, at: id, size: 10 + (id % 7), valuesJson: `{"v":${id}}` });
const scanAll = (store: { scanUp(after: number, limit: number): StoredRow[] }) => store.scanUp(0, 1_000_000).map((r) => ({ ...r }));

function sqliteStore(options = {}): SqliteStore {
  const db = new Database(':memory:');
  migrate(db, ':memory:');
  return new SqliteStore(db, options);
}

describe('SqliteStore', () => {
  it('stores and deletes like MemoryStore across statement chunks, id runs and stragglers', () => {
    const sqlite = sqliteStore();
    const memory = new MemoryStore();
    const inserts = Array.from({ length: 300 }, (_, i) => row(i + 1));
    // Runs of every length around the range-delete threshold, stragglers, and more than one statement chunk of them.
    const deletes = [1, 2, 3, 5, 6, 7, 8, 10, 20, 21, 22, 23, 24, 25, ...Array.from({ length: 150 }, (_, i) => 100 + i * 2 + (i % 2))];
    for (const store of [sqlite, memory]) {
      store.write({ inserts, deletes: [], seqs: [['s0', 5]], dropRecords: [] });
      store.write({ inserts: [], deletes, seqs: [], dropRecords: [] });
    }
    assert.deepEqual(scanAll(sqlite), scanAll(memory));
    assert.deepEqual(sqlite.scanDown(50, 3), memory.scanDown(50, 3));
    const totals = (store: SqliteStore | MemoryStore) => {
      const { depth, bytes, maxId, maxAt } = store.snapshot();
      return { depth, bytes, maxId, maxAt };
    };
    assert.deepEqual(totals(sqlite), totals(memory));
  });

  it('only ever raises a sensor seq, and counts seqs used by rows and drop records', () => {
    const store = sqliteStore();
    store.write({ inserts: [row(1)], deletes: [], seqs: [['a', 9]], dropRecords: [] });
    store.write({ inserts: [], deletes: [], seqs: [['a', 4]], dropRecords: [{ id: 1, sensorId: 'b', reason: 'ttl', count: 2, firstSeq: 6, lastSeq: 7, ts: 1 }] });
    assert.deepEqual(
      [...store.snapshot().lastSeqs].sort(),
      [
        ['a', 9],
        ['b', 7],
        ['s1', 1],
      ],
    );
  });

  it('keeps a write all-or-nothing', () => {
    const store = sqliteStore();
    store.write({ inserts: [row(1)], deletes: [], seqs: [], dropRecords: [] });
    assert.throws(() => store.write({ inserts: [row(2), row(1)], deletes: [], seqs: [['a', 3]], dropRecords: [] }), /UNIQUE|PRIMARY KEY/);
    assert.deepEqual(
      scanAll(store).map((r) => r.id),
      [1],
    );
    assert.equal(store.snapshot().lastSeqs.get('a'), undefined);
  });
});
