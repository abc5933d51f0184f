import type { Database, Statement } from 'better-sqlite3';
import type { ChangeSet, Store, StoreSnapshot, StoredRow } from './store.js';
import type { DropReason, DropRecord } from './types.js';
import { MIN_RANGE_DELETE as MIN_RANGE, SQL_CHUNK_ROWS as CHUNK } from '../shared/config/buffer.js';
const ROW_PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?)';
const ROW_COLUMNS = 'id, sensor_id AS sensorId, seq, ts, at, size, vals AS valuesJson';
const DROP_COLUMNS = 'id, sensor_id AS sensorId, reason, count, first_seq AS firstSeq, last_seq AS lastSeq, ts';

export interface SqliteStoreOptions {
  /**
   * With synchronous=normal: when a sensor's seq passes its durable reservation, that commit runs
   * with synchronous=FULL and reserves this many seqs ahead, so after a power loss the seqs can
   * restart above anything that may have been used (see seq-guard.ts).
   */
  reserveAhead?: number;
}

/** The Store on an open, migrated better-sqlite3 database; every statement is prepared once. */
export class SqliteStore implements Store {
  private readonly insertRow: Statement;
  private readonly insertChunk: Statement;
  private readonly deleteRow: Statement;
  private readonly deleteChunk: Statement;
  private readonly deleteRange: Statement;
  private readonly raiseSeq: Statement;
  private readonly upsertDrop: Statement;
  private readonly up: Statement<[number, number], StoredRow>;
  private readonly down: Statement<[number, number], StoredRow>;
  private readonly listDrops: Statement<[number], DropRecord>;
  private readonly deleteDrop: Statement;
  private readonly writeAll: (changes: ChangeSet, reserved: ReadonlyMap<string, number>) => void;
  private readonly reserved = new Map<string, number>();
  /** Opened with synchronous=FULL: writes that only delete acknowledged rows still skip the fsync. */
  private readonly fullSync: boolean;
  private readonly syncFull: Statement;
  private readonly syncNormal: Statement;

  constructor(
    private readonly db: Database,
    private readonly options: SqliteStoreOptions = {},
  ) {
    const insert = 'INSERT INTO readings (id, sensor_id, seq, ts, at, size, vals) VALUES ';
    this.insertRow = db.prepare(insert + ROW_PLACEHOLDERS);
    this.insertChunk = db.prepare(insert + Array(CHUNK).fill(ROW_PLACEHOLDERS).join(', '));
    this.deleteRow = db.prepare('DELETE FROM readings WHERE id = ?');
    this.deleteChunk = db.prepare(`DELETE FROM readings WHERE id IN (${Array(CHUNK).fill('?').join(', ')})`);
    this.deleteRange = db.prepare('DELETE FROM readings WHERE id BETWEEN ? AND ?');
    this.raiseSeq = db.prepare(
      `INSERT INTO sensor_seq (sensor_id, last_seq, reserved) VALUES (?, ?, ?)
       ON CONFLICT (sensor_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq), reserved = max(reserved, excluded.reserved)`,
    );
    this.upsertDrop = db.prepare(
      'INSERT OR REPLACE INTO drop_records (id, sensor_id, reason, count, first_seq, last_seq, ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.up = db.prepare(`SELECT ${ROW_COLUMNS} FROM readings WHERE id > ? ORDER BY id LIMIT ?`);
    this.down = db.prepare(`SELECT ${ROW_COLUMNS} FROM readings WHERE id < ? ORDER BY id DESC LIMIT ?`);
    this.listDrops = db.prepare(`SELECT ${DROP_COLUMNS} FROM drop_records ORDER BY id LIMIT ?`);
    this.deleteDrop = db.prepare('DELETE FROM drop_records WHERE id = ?');
    for (const row of db.prepare('SELECT sensor_id AS sensorId, reserved FROM sensor_seq').all() as Array<{ sensorId: string; reserved: number }>) {
      this.reserved.set(row.sensorId, row.reserved);
    }
    this.fullSync = (db.pragma('synchronous', { simple: true }) as number) >= 2;
    this.syncFull = db.prepare('PRAGMA synchronous = FULL');
    this.syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.writeAll = db.transaction((changes: ChangeSet, reserved: ReadonlyMap<string, number>) => {
      this.deleteRows(changes.deletes);
      this.insertRows(changes.inserts);
      for (const [sensorId, seq] of changes.seqs) this.raiseSeq.run(sensorId, seq, reserved.get(sensorId) ?? 0);
      for (const record of changes.dropRecords) {
        this.upsertDrop.run(record.id, record.sensorId, record.reason, record.count, record.firstSeq, record.lastSeq, record.ts);
      }
    });
  }

  private insertRows(rows: readonly StoredRow[]): void {
    const whole = rows.length - (rows.length % CHUNK);
    const params: Array<string | number> = [];
    for (let start = 0; start < whole; start += CHUNK) {
      params.length = 0;
      for (let i = start; i < start + CHUNK; i++) pushRow(params, rows[i] as StoredRow);
      this.insertChunk.run(params);
    }
    for (let i = whole; i < rows.length; i++) this.insertRow.run(pushRow([], rows[i] as StoredRow));
  }

  /** Acknowledged ids come mostly in consecutive runs: one range delete per run, the stragglers by id. */
  private deleteRows(ids: readonly number[]): void {
    const sorted = Float64Array.from(ids).sort();
    const single: number[] = [];
    let runStart = 0;
    for (let i = 1; i <= sorted.length; i++) {
      if (i < sorted.length && (sorted[i] as number) <= (sorted[i - 1] as number) + 1) continue;
      if (i - runStart >= MIN_RANGE) this.deleteRange.run(sorted[runStart], sorted[i - 1]);
      else for (let k = runStart; k < i; k++) single.push(sorted[k] as number);
      runStart = i;
    }
    const whole = single.length - (single.length % CHUNK);
    for (let start = 0; start < whole; start += CHUNK) this.deleteChunk.run(single.slice(start, start + CHUNK));
    for (let i = whole; i < single.length; i++) this.deleteRow.run(single[i]);
  }

  snapshot(): StoreSnapshot {
    const totals = this.db
      .prepare('SELECT count(*) AS depth, coalesce(sum(size), 0) AS bytes, coalesce(max(id), 0) AS maxId, coalesce(max(at), 0) AS maxAt FROM readings')
      .get() as { depth: number; bytes: number; maxId: number; maxAt: number };
    const drops = this.db.prepare('SELECT count(*) AS count, coalesce(max(id), 0) AS maxId FROM drop_records').get() as { count: number; maxId: number };
    // A seq is used once it was stored, recorded as dropped, or noted in sensor_seq: the next one must be above all three.
    const seqRows = this.db
      .prepare(
        `SELECT sensor_id AS sensorId, max(seq) AS seq FROM (
           SELECT sensor_id, last_seq AS seq FROM sensor_seq
           UNION ALL SELECT sensor_id, max(seq) FROM readings GROUP BY sensor_id
           UNION ALL SELECT sensor_id, max(last_seq) FROM drop_records GROUP BY sensor_id
         ) GROUP BY sensor_id`,
      )
      .all() as Array<{ sensorId: string; seq: number }>;
    return {
      depth: totals.depth,
      bytes: totals.bytes,
      maxId: totals.maxId,
      maxAt: totals.maxAt,
      lastSeqs: new Map(seqRows.map((row) => [row.sensorId, row.seq])),
      dropRecordCount: drops.count,
      maxDropRecordId: drops.maxId,
    };
  }

  write(changes: ChangeSet): void {
    const ahead = this.options.reserveAhead;
    if (this.fullSync && isAcksOnly(changes)) {
      // Deleting acknowledged rows need not survive a power cut: they would only be sent again
      // (at-least-once). The next write with readings fsyncs the WAL, these deletes included.
      this.syncNormal.run();
      try {
        this.writeAll(changes, this.reserved);
      } finally {
        this.syncFull.run();
      }
      return;
    }
    if (ahead === undefined) {
      this.writeAll(changes, this.reserved);
      return;
    }
    const raised = new Map<string, number>();
    for (const [sensorId, seq] of changes.seqs) {
      if (seq > (this.reserved.get(sensorId) ?? 0)) raised.set(sensorId, seq + ahead);
    }
    if (raised.size === 0) {
      this.writeAll(changes, this.reserved);
      return;
    }
    const reserved = new Map([...this.reserved, ...raised]);
    this.syncFull.run();
    try {
      this.writeAll(changes, reserved);
    } finally {
      this.syncNormal.run();
    }
    for (const [sensorId, value] of raised) this.reserved.set(sensorId, value);
  }

  scanUp(afterId: number, limit: number): StoredRow[] {
    return this.up.all(afterId, limit);
  }

  scanDown(beforeId: number, limit: number): StoredRow[] {
    return this.down.all(beforeId, limit);
  }

  dropRecords(max: number): DropRecord[] {
    return this.listDrops.all(max).map((record) => ({ ...record, reason: record.reason as DropReason }));
  }

  deleteDropRecords(ids: readonly number[]): number {
    let deleted = 0;
    this.db.transaction(() => {
      for (const id of ids) deleted += this.deleteDrop.run(id).changes;
    })();
    return deleted;
  }

  /** A WAL that could not grow blocks every commit (and with it the checkpoint that would shrink it): checkpoint and truncate it now. */
  reclaim(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Deletes without drop records are acknowledged rows (evictions and TTL drops always come with their drop records). */
function isAcksOnly(changes: ChangeSet): boolean {
  return changes.inserts.length === 0 && changes.seqs.length === 0 && changes.dropRecords.length === 0 && changes.deletes.length > 0;
}

function pushRow(params: Array<string | number>, row: StoredRow): Array<string | number> {
  params.push(row.id, row.sensorId, row.seq, row.ts, row.at, row.size, row.valuesJson);
  return params;
}
