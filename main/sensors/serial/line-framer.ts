const LF = 0x0a;
const CR = 0x0d;
/** Bytes of an over-long line kept for the log sample. */
const HEAD_BYTES = 64;

export type FramerEvent = { kind: 'line'; bytes: Buffer } | { kind: 'too-long'; head: Buffer };

/**
 * Splits a byte stream into lines ended by LF, CR or CRLF; empty lines are skipped. A line longer
 * than `maxLineBytes` is reported once and then discarded up to its end, so memory stays bounded
 * however long a sensor babbles without a newline. Pure: no I/O, no timers.
 */
export class LineFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): FramerEvent[] {
    const events: FramerEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const end = nextTerminator(chunk, start);
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
      this.append(piece, events);
      if (end === -1) break;
      this.finishLine(events);
      start = end + 1;
    }
    return events;
  }

  private append(piece: Buffer, events: FramerEvent[]): void {
    if (this.discarding || piece.length === 0) return;
    if (this.pendingBytes + piece.length > this.maxLineBytes) {
      const head = Buffer.concat([...this.pending, piece.subarray(0, HEAD_BYTES)]).subarray(0, HEAD_BYTES);
      events.push({ kind: 'too-long', head });
      this.reset();
      this.discarding = true;
      return;
    }
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
  }

  private finishLine(events: FramerEvent[]): void {
    if (!this.discarding && this.pendingBytes > 0) {
      events.push({ kind: 'line', bytes: this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending) });
    }
    this.reset();
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
  }
}

function nextTerminator(chunk: Buffer, from: number): number {
  for (let i = from; i < chunk.length; i++) {
    const byte = chunk[i];
    if (byte === LF || byte === CR) return i;
  }
  return -1;
}
