import type { Registry } from '../metrics/registry.js';
import type { Component } from '../shared/lifecycle.js';
import type { Database as SqliteDb } from 'better-sqlite3';
import { Database } from '../sqlite/driver.js';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BufferEngine, type BufferDeps } from './engine.js';
import { errorMessage, isCorruption, sqliteCode } from './errors.js';
import { assertKnownSchema, migrate } from './migrations.js';
import { currentBootId, guardSeqs, markCleanStop, type SeqJump } from './seq-guard.js';
import { ScanCache } from './scan-cache.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';
import {
  NORMAL_SYNC_INTERVAL_MS,
  OPEN_BUSY_TIMEOUT_MS,
  SEQ_RESERVE_AHEAD,
  SQLITE_CACHE_KIB,
  WAL_SIZE_LIMIT_BYTES,
} from '../shared/config/buffer.js';

export interface SqliteBufferDeps extends BufferDeps {
  /** The database file; `-wal` sits next to it. */
  file: string;
  metrics: Registry;
  /** Tells a reboot (possible power cut) from a process crash; defaults to Linux's boot_id. */
  bootId?: () => string | undefined;
}

/** quick_check found damage that SQLite did not report as an error code. */
class DamagedFileError extends Error {
  constructor(detail: string) {
    super(`integrity check failed: ${detail}`);
    this.name = 'DamagedFileError';
  }
}

/**
 * The durable buffer: one SQLite file in WAL mode, opened exclusively (a second process gets a
 * clear error instead of sharing seq numbers), synchronous FULL unless configured NORMAL.
 */
export class SqliteBuffer extends BufferEngine implements Component {
  readonly name = 'buffer';
  private syncTimer: NodeJS.Timeout | undefined;
  private db: SqliteDb | undefined;

  constructor(private readonly sqliteDeps: SqliteBufferDeps) {
    super(sqliteDeps);
  }

  async start(_signal: AbortSignal): Promise<void> {
    const { file } = this.sqliteDeps;
    if (this.running) throw new Error(`buffer ${file} is already started`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.db = this.openOrQuarantine(file);
    this.attach(this.storeFor(this.db));
    if (this.deps.options.synchronous === 'normal') {
      this.syncTimer = setInterval(() => this.checkpoint(), NORMAL_SYNC_INTERVAL_MS);
      this.syncTimer.unref();
    }
    const stats = this.stats(this.deps.clock.now());
    this.log.info({ file, depth: stats.depth, bytes: stats.bytes, synchronous: this.deps.options.synchronous }, 'buffer opened');
  }

  async stop(): Promise<void> {
    clearInterval(this.syncTimer);
    const store = this.detach();
    if (store && this.db?.open) {
      try {
        markCleanStop(this.db);
      } catch (error) {
        this.log.warn({ err: error }, 'could not record the clean stop; the next start treats it as a crash');
      }
    }
    store?.close();
    // After a start that failed half-way the database may be open without a store.
    if (this.db?.open) this.db.close();
    this.db = undefined;
  }

  protected override replaceCorruptStore(error: unknown, lastSeqs: ReadonlyMap<string, number>, lost: number): Store | undefined {
    const { file } = this.sqliteDeps;
    try {
      try {
        this.db?.close();
      } catch {
        // Closing a damaged file may fail; it is quarantined either way.
      }
      const quarantined = quarantine(file, this.deps.clock.now());
      const db = this.open(file);
      seedSeqs(db, lastSeqs);
      this.db = db;
      this.raise({
        kind: 'corrupt-quarantined',
        severity: 'critical',
        message: `buffer file ${file} turned out corrupt while running (${errorMessage(error)}); kept it as ${quarantined} with ${lost} unsent reading(s) and continued with a fresh buffer; seq numbers continue`,
      });
      return this.storeFor(db);
    } catch (replaceError) {
      this.log.error({ err: replaceError, file }, 'could not quarantine the corrupt buffer file');
      return undefined;
    }
  }

  /** Live readings are leased from memory (ScanCache); a backlog from the file. */
  private storeFor(db: SqliteDb): Store {
    return new ScanCache(new SqliteStore(db, this.deps.options.synchronous === 'normal' ? { reserveAhead: SEQ_RESERVE_AHEAD } : {}));
  }

  private checkpoint(): void {
    const db = this.db;
    try {
      if (db?.open) db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      this.log.warn({ err: error }, 'periodic WAL checkpoint failed; retrying in a second');
    }
  }

  private openOrQuarantine(file: string): SqliteDb {
    try {
      return this.open(file);
    } catch (error) {
      if (!isCorruption(error) && !(error instanceof DamagedFileError)) throw this.explain(file, error);
      const quarantined = quarantine(file, this.deps.clock.now());
      const seqs = salvageSeqs(quarantined);
      const db = this.open(file);
      seedSeqs(db, seqs);
      const carried = seqs.size > 0 ? `seq numbers carried over for ${seqs.size} sensor(s)` : 'seq numbers could not be recovered and restart at 1';
      this.raise({
        kind: 'corrupt-quarantined',
        severity: 'critical',
        message: `buffer file ${file} was corrupt (${errorMessage(error)}); kept it as ${quarantined} and started a fresh buffer; ${carried}`,
      });
      return db;
    }
  }

  private open(file: string): SqliteDb {
    const db = new Database(file, { timeout: OPEN_BUSY_TIMEOUT_MS });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      assertKnownSchema(db, file);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`could not switch to WAL mode (got ${String(mode)})`);
      db.pragma(`synchronous = ${this.deps.options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
      const { maxFileBytes } = this.deps.options;
      if (maxFileBytes !== undefined) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxFileBytes / pageSize))}`);
      }
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new DamagedFileError(String(check));
      migrate(db, file);
      const bootId = (this.sqliteDeps.bootId ?? currentBootId)();
      const jumps = guardSeqs(db, { synchronous: this.deps.options.synchronous, bootId, now: this.deps.clock.now() });
      if (jumps.length > 0) {
        const example = jumps[0] as SeqJump;
        this.raise({
          kind: 'io-error',
          severity: 'warning',
          message:
            `buffer ${file}: the last run (synchronous=normal) did not stop cleanly and the machine rebooted, so up to a second of readings may be lost; ` +
            `${jumps.length} sensor(s) continue above their reserved seqs so no seq is reused (e.g. ${example.sensorId} at ${example.to + 1} instead of ${example.from + 1}); drop records cover the skipped ranges`,
        });
      }
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private explain(file: string, error: unknown): Error {
    if (sqliteCode(error) === 'SQLITE_BUSY') {
      return new Error(`buffer file ${file} is in use by another process (is another fieldgate running with the same data dir?)`);
    }
    return new Error(`cannot open buffer file ${file}: ${errorMessage(error)}`, { cause: error });
  }
}

function seedSeqs(db: SqliteDb, seqs: ReadonlyMap<string, number>): void {
  const seed = db.prepare('INSERT INTO sensor_seq (sensor_id, last_seq) VALUES (?, ?)');
  db.transaction(() => {
    for (const [sensorId, seq] of seqs) seed.run(sensorId, seq);
  })();
}

/** Renames the file (and its -wal/-shm) to `<file>.corrupt-<timestamp>`, keeping the pair openable together. */
function quarantine(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let n = 2; existsSync(target); n++) target = `${file}.corrupt-${stamp}-${n}`;
  renameSync(file, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  }
  return target;
}

/**
 * Best effort: the highest seq per sensor that a damaged file still shows, so fresh seqs stay
 * above them. Opening it read-only may leave an empty -wal and a -shm; those are removed again.
 */
function salvageSeqs(file: string): Map<string, number> {
  const hadWal = existsSync(`${file}-wal`);
  try {
    return readSeqs(file);
  } finally {
    rmSync(`${file}-shm`, { force: true });
    if (!hadWal && existsSync(`${file}-wal`) && statSync(`${file}-wal`).size === 0) rmSync(`${file}-wal`);
  }
}

function readSeqs(file: string): Map<string, number> {
  const seqs = new Map<string, number>();
  let db: SqliteDb | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const queries = [
      'SELECT sensor_id AS sensorId, last_seq AS seq FROM sensor_seq',
      // Reservations (synchronous=normal): seqs up to here may have been used; staying above them is the safe side.
      'SELECT sensor_id AS sensorId, reserved AS seq FROM sensor_seq',
      'SELECT sensor_id AS sensorId, max(seq) AS seq FROM readings GROUP BY sensor_id',
      'SELECT sensor_id AS sensorId, max(last_seq) AS seq FROM drop_records GROUP BY sensor_id',
    ];
    for (const sql of queries) {
      try {
        for (const row of db.prepare(sql).all() as Array<{ sensorId: unknown; seq: unknown }>) {
          if (typeof row.sensorId === 'string' && typeof row.seq === 'number' && Number.isSafeInteger(row.seq)) {
            seqs.set(row.sensorId, Math.max(row.seq, seqs.get(row.sensorId) ?? 0));
          }
        }
      } catch {
        // That table is damaged too; the others may still tell.
      }
    }
  } catch {
    // Not openable at all: nothing to salvage.
  } finally {
    db?.close();
  }
  return seqs;
}
