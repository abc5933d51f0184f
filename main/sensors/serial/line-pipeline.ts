import type { LinePortConfig } from '../../shared/config/serial.js';
import { TokenBucket } from '../../shared/token-bucket.js';
import { LineFramer } from './line-framer.js';
import { LineInterpreter, type LineOutcome } from './line-interpreter.js';

export type LineEvent =
  | (LineOutcome & { bytes: Buffer })
  | { kind: 'rejected'; reason: 'line-too-long' | 'rate-limited'; detail: string; bytes: Buffer };

/**
 * What a line port (jsonl, csv, kv) makes of the bytes it reads, in the order the reader applies
 * it: frame lines, drop over-long ones, rate-limit, then decode, ignore and parse. Pure apart from
 * the clock it is given, so tests run the production order at every split of a stream.
 */
export class LinePipeline {
  private framer: LineFramer;
  private readonly limiter: TokenBucket;
  private readonly interpreter: LineInterpreter;

  constructor(private readonly config: LinePortConfig) {
    this.framer = new LineFramer(config.maxLineBytes);
    this.limiter = new TokenBucket(config.maxLinesPerSecond);
    this.interpreter = new LineInterpreter(config);
  }

  /** A fresh connection starts mid-line at worst: drop what was half-read before. */
  restart(): void {
    this.framer = new LineFramer(this.config.maxLineBytes);
  }

  push(chunk: Buffer, now: number): LineEvent[] {
    return this.framer.push(chunk).map((event): LineEvent => {
      if (event.kind === 'too-long') {
        return { kind: 'rejected', reason: 'line-too-long', detail: `line longer than ${this.config.maxLineBytes} bytes; discarded up to its end`, bytes: event.head };
      }
      if (!this.limiter.tryTake(now)) {
        return { kind: 'rejected', reason: 'rate-limited', detail: `more than ${this.config.maxLinesPerSecond} lines per second`, bytes: event.bytes };
      }
      return { ...this.interpreter.interpret(event.bytes), bytes: event.bytes };
    });
  }
}
