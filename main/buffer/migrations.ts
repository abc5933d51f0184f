import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
}

/** Append only: never edit a released migration, add the next number. PRAGMA user_version holds the last applied. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'readings outbox, per-sensor seq, drop records',
    up(db) {
      db.exec(`
        CREATE TABLE readings (
          id INTEGER PRIMARY KEY,
          sensor_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          ts INTEGER NOT NULL,
          at INTEGER NOT NULL,
          size INTEGER NOT NULL,
          vals TEXT NOT NULL
        );
        CREATE TABLE sensor_seq (
          sensor_id TEXT PRIMARY KEY,
          last_seq INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE drop_records (
          id INTEGER PRIMARY KEY,
          sensor_id TEXT NOT NULL,
          reason TEXT NOT NULL,
          count INTEGER NOT NULL,
          first_seq INTEGER NOT NULL,
          last_seq INTEGER NOT NULL,
          ts INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 2,
    description: 'seq reservations and run state, so synchronous=normal never reuses a seq after power loss',
    up(db) {
      db.exec(`
        ALTER TABLE sensor_seq ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE meta (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
];

export const LATEST_VERSION = migrations.reduce((latest, migration) => Math.max(latest, migration.version), 0);

/** Thrown when the file was written by a newer fieldgate: refusing beats corrupting it. */
export class NewerSchemaError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
  ) {
    super(`buffer file ${file} has schema version ${found}, newer than this fieldgate knows (${LATEST_VERSION}); upgrade fieldgate or move the file away`);
    this.name = 'NewerSchemaError';
  }
}

/** Throws NewerSchemaError before anything (even the journal mode) is changed in a file from a newer fieldgate. */
export function assertKnownSchema(db: Database, file: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > LATEST_VERSION) throw new NewerSchemaError(file, version);
  return version;
}

/** Applies every migration above the file's user_version, each in its own transaction. Returns the versions crossed. */
export function migrate(db: Database, file: string): { from: number; to: number } {
  const from = assertKnownSchema(db, file);
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return { from, to: LATEST_VERSION };
}
