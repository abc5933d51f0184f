export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogEntry {
  /** Increases by one per entry since start: a tail resumes after the last one it saw. */
  seq: number;
  /** Milliseconds since the epoch. */
  ts: number;
  level: LogLevel;
  /** The module (`uplink`, `serial`, …); absent for the root logger. */
  ns?: string;
  msg: string;
  /** The line's other fields, already redacted by the logger. */
  fields: Record<string, unknown>;
}

export interface LogQuery {
  /** This level and above. */
  level?: LogLevel;
  ns?: string;
  /** Case-insensitive, in the message or any field. */
  text?: string;
  since?: number;
  until?: number;
  /** Only entries after this seq. */
  afterSeq?: number;
  /** The newest matches up to this many (default and maximum: the ring's capacity). */
  limit?: number;
}

interface Stored {
  entry: LogEntry;
  /** Lower-cased line for text search. */
  haystack: string;
}

const OWN_FIELDS = new Set(['time', 'level', 'ns', 'msg', 'app', 'pid', 'hostname']);

/**
 * The last `capacity` log entries in memory, fed the logger's output lines (so what it holds is
 * exactly what went to the journal, secrets already redacted), with a query and a live tail.
 */
export class LogRing {
  private readonly slots: (Stored | undefined)[];
  private next = 0;
  private seq = 0;
  private readonly listeners = new Set<(entry: LogEntry) => void>();

  constructor(private readonly options: { capacity: number } = { capacity: 5000 }) {
    this.slots = new Array<Stored | undefined>(options.capacity);
  }

  /** One or more newline-terminated JSON lines, as pino writes them. Lines that are not JSON are kept as messages. */
  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() !== '') this.push(line);
    }
  }

  query(query: LogQuery = {}): LogEntry[] {
    const minimum = query.level === undefined ? 0 : LOG_LEVELS.indexOf(query.level);
    const text = query.text?.toLowerCase();
    const limit = Math.min(query.limit ?? this.options.capacity, this.options.capacity);
    const matches: LogEntry[] = [];
    for (let i = 0; i < this.options.capacity; i++) {
      const stored = this.slots[(this.next + i) % this.options.capacity];
      if (!stored) continue;
      const { entry } = stored;
      if (LOG_LEVELS.indexOf(entry.level) < minimum) continue;
      if (query.ns !== undefined && entry.ns !== query.ns) continue;
      if (query.since !== undefined && entry.ts < query.since) continue;
      if (query.until !== undefined && entry.ts > query.until) continue;
      if (query.afterSeq !== undefined && entry.seq <= query.afterSeq) continue;
      if (text !== undefined && !stored.haystack.includes(text)) continue;
      matches.push(entry);
    }
    return matches.slice(-limit);
  }

  /** Every entry written from now on; returns the function that ends the tail. */
  tail(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private push(line: string): void {
    const entry = parse(line, ++this.seq);
    this.slots[this.next] = { entry, haystack: line.toLowerCase() };
    this.next = (this.next + 1) % this.options.capacity;
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch {
        // Logging a tail's failure would feed the same tail again; the tail owner sees its own errors.
      }
    }
  }
}

function parse(line: string, seq: number): LogEntry {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { seq, ts: Date.now(), level: 'info', msg: line, fields: {} };
  }
  const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !OWN_FIELDS.has(key)));
  const time = typeof record.time === 'string' ? Date.parse(record.time) : typeof record.time === 'number' ? record.time : Number.NaN;
  const level = LOG_LEVELS.includes(record.level as LogLevel) ? (record.level as LogLevel) : 'info';
  return {
    seq,
    ts: Number.isFinite(time) ? time : Date.now(),
    level,
    ...(typeof record.ns === 'string' && { ns: record.ns }),
    msg: typeof record.msg === 'string' ? record.msg : '',
    fields,
  };
}
