import { LineFramer, type FramerEvent } from '../../../../main/sensors/serial/line-framer.js';
import type { LineParser, LineResult } from '../../../../main/sensors/serial/parsers/line-result.js';

/** Every way to cut `bytes` into two chunks (including an empty first or last chunk). */
export function* everySplit(bytes: Buffer): Generator<Buffer[]> {
  for (let at = 0; at <= bytes.length; at++) yield [bytes.subarray(0, at), bytes.subarray(at)];
}

export function frame(chunks: readonly Buffer[], maxLineBytes: number): FramerEvent[] {
  const framer = new LineFramer(maxLineBytes);
  return chunks.flatMap((chunk) => framer.push(chunk));
}

/** The read path up to the parser: frame, decode UTF-8 (fatal), parse. */
export function parseStream(parser: LineParser, chunks: readonly Buffer[], maxLineBytes = 4096): Array<LineResult | 'too-long' | 'bad-utf8'> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return frame(chunks, maxLineBytes).map((event) => {
    if (event.kind === 'too-long') return 'too-long';
    try {
      return parser(decoder.decode(event.bytes));
    } catch {
      return 'bad-utf8';
    }
  });
}
