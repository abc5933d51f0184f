import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Database } from '../sqlite/driver.js';
import type { AlertSeverity } from '../shared/alert.js';

/** One raise of a condition, until it is cleared (then it is history). */
export interface StoredAlert {
  id: number;
  key: string;
  type: string;
  kind: string;
  subject: string;
  severity: AlertSeverity;
  message: string;
  hint: string | null;
  raisedAt: number;
  clearedAt: number | null;
}

/** A raise, clear or notice waiting for the broker's PUBACK. */
export interface OutboxEntry {
  id: number;
  payload: string;
}

interface Row {
  id: number;
  key: string;
  type: string;
  kind: string;
  subject: string;
  severity: AlertSeverity;
  message: string;
  hint: string | null;
  raised_at: number;
  cleared_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
  severity TEXT NOT NULL, message TEXT NOT NULL, hint TEXT,
  raised_at INTEGER NOT NULL, cleared_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_active ON alerts(key) WHERE cleared_at IS NULL;
CREATE TABLE IF NOT EXISTS alert_seqs (key TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS alert_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL);
`;

const toAlert = (row: Row): StoredAlert => ({
  id: row.id,
  key: row.key,
  type: row.type,
  kind: row.kind,
  subject: row.subject,
  severity: row.severity,
  message: row.message,
  hint: row.hint,
  raisedAt: row.raised_at,
  clearedAt: row.cleared_at,
});

/**
 * Alerts and their outbox in one SQLite file (`<dataDir>/alerts.db`, synchronous=FULL): a change
 * and the message announcing it are written in one transaction, so after a crash the cloud still
 * gets every raise and clear, and an outbox entry is deleted only after its PUBACK.
 */
export class AlertStore {
  private db: BetterSqlite3.Database | undefined;

  constructor(private readonly file: string) {}

  open(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const db = new Database(this.file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    this.db = db;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }

  private get handle(): BetterSqlite3.Database {
    if (!this.db) throw new Error('the alert store is not open');
    return this.db;
  }

  active(): StoredAlert[] {
    return (this.handle.prepare('SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY id').all() as Row[]).map(toAlert);
  }

  recent(limit: number): StoredAlert[] {
    return (this.handle.prepare('SELECT * FROM alerts WHERE cleared_at IS NOT NULL ORDER BY cleared_at DESC, id DESC LIMIT ?').all(limit) as Row[]).map(toAlert);
  }

  /** Runs `work` in one transaction (a change, its seq and its outbox entry land together or not at all). */
  transaction<T>(work: () => T): T {
    return this.handle.transaction(work)();
  }

  nextSeq(key: string): number {
    const row = this.handle.prepare('INSERT INTO alert_seqs (key, seq) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET seq = seq + 1 RETURNING seq').get(key) as { seq: number };
    return row.seq;
  }

  insert(alert: Omit<StoredAlert, 'id'>): number {
    const result = this.handle
      .prepare('INSERT INTO alerts (key, type, kind, subject, severity, message, hint, raised_at, cleared_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(alert.key, alert.type, alert.kind, alert.subject, alert.severity, alert.message, alert.hint, alert.raisedAt, alert.clearedAt);
    return Number(result.lastInsertRowid);
  }

  update(id: number, change: { severity: AlertSeverity; message: string; hint: string | null }): void {
    this.handle.prepare('UPDATE alerts SET severity = ?, message = ?, hint = ? WHERE id = ?').run(change.severity, change.message, change.hint, id);
  }

  markCleared(id: number, at: number): void {
    this.handle.prepare('UPDATE alerts SET cleared_at = ? WHERE id = ?').run(at, id);
  }

  /** Keeps the newest `keep` cleared alerts. */
  pruneCleared(keep: number): void {
    this.handle.prepare('DELETE FROM alerts WHERE cleared_at IS NOT NULL AND id NOT IN (SELECT id FROM alerts WHERE cleared_at IS NOT NULL ORDER BY cleared_at DESC, id DESC LIMIT ?)').run(keep);
  }

  enqueue(payload: string): void {
    this.handle.prepare('INSERT INTO alert_outbox (payload) VALUES (?)').run(payload);
  }

  /** Oldest first. */
  outbox(limit: number): OutboxEntry[] {
    return this.handle.prepare('SELECT id, payload FROM alert_outbox ORDER BY id LIMIT ?').all(limit) as OutboxEntry[];
  }

  delivered(id: number): void {
    this.handle.prepare('DELETE FROM alert_outbox WHERE id = ?').run(id);
  }
}
