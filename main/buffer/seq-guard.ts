import type { Database } from 'better-sqlite3';
import type { BufferConfig } from '../shared/config/buffer.js';
import { readFileSync } from 'node:fs';

export interface SeqJump {
  sensorId: string;
  /** The last seq the file remembered. */
  from: number;
  /** The reservation the seq jumped to: every seq up to here may have been used before the power cut. */
  to: number;
}

/** This boot's id (Linux): a crash of the process keeps it, a reboot or power cut changes it. Undefined when unknown. */
export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * With synchronous=normal, a power cut rolls the file back by up to about a second, so seqs
 * handed out (and maybe delivered) in that second would be handed out again. When the last run used
 * normal, did not stop cleanly and the machine rebooted since, each sensor's seq jumps to its durable
 * reservation and a drop record (reason io-error, count = the skipped range) tells the cloud. Then
 * this run is recorded (mode, boot, not yet stopped cleanly) with a synced write.
 */
export function guardSeqs(db: Database, options: { synchronous: BufferConfig['synchronous']; bootId: string | undefined; now: number }): SeqJump[] {
  const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((row) => [row.key, row.value]));
  const powerCutPossible =
    meta.get('synchronous') === 'normal' && meta.get('clean') === '0' && (options.bootId === undefined || meta.get('bootId') !== options.bootId);
  const jumps: SeqJump[] = [];
  const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  durably(db, () => {
    if (powerCutPossible) {
      const rows = db.prepare('SELECT sensor_id AS sensorId, last_seq AS lastSeq, reserved FROM sensor_seq WHERE reserved > last_seq').all() as Array<{
        sensorId: string;
        lastSeq: number;
        reserved: number;
      }>;
      let nextId = (db.prepare('SELECT coalesce(max(id), 0) AS id FROM drop_records').get() as { id: number }).id + 1;
      const record = db.prepare(
        "INSERT INTO drop_records (id, sensor_id, reason, count, first_seq, last_seq, ts) VALUES (?, ?, 'io-error', ?, ?, ?, ?)",
      );
      const jump = db.prepare('UPDATE sensor_seq SET last_seq = reserved WHERE sensor_id = ?');
      for (const row of rows) {
        record.run(nextId++, row.sensorId, row.reserved - row.lastSeq, row.lastSeq + 1, row.reserved, options.now);
        jump.run(row.sensorId);
        jumps.push({ sensorId: row.sensorId, from: row.lastSeq, to: row.reserved });
      }
    }
    setMeta.run('synchronous', options.synchronous);
    setMeta.run('bootId', options.bootId ?? '');
    setMeta.run('clean', '0');
  });
  return jumps;
}

/** Everything before is durable once this returns (the synced write covers the whole WAL). */
export function markCleanStop(db: Database): void {
  durably(db, () => db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('clean', '1')").run());
}

function durably(db: Database, work: () => void): void {
  const previous = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = FULL');
  try {
    db.transaction(work)();
  } finally {
    db.pragma(`synchronous = ${previous}`);
  }
}
