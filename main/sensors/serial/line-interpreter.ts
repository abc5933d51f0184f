import type { LinePortConfig } from '../../shared/config/serial.js';
import type { Values } from '../../shared/reading.js';
import { lineParserFor } from './parsers/index.js';
import type { LineParser } from './parsers/line-result.js';
import type { RejectReason } from './rejects.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type LineOutcome =
  | { kind: 'parsed'; text: string; sensorId: string; values: Values }
  | { kind: 'ignored'; text: string }
  | { kind: 'rejected'; text?: string; reason: RejectReason; detail: string };

/**
 * What a line-oriented port (jsonl, csv, kv) makes of one framed line: UTF-8 decoding, the
 * `ignore` pattern, then the format's parser. Shared by the reader and the setup preview, so a
 * preview shows exactly what the running gateway would do with the line.
 */
export class LineInterpreter {
  private readonly parse: LineParser;
  private readonly ignore: RegExp | undefined;

  constructor(config: LinePortConfig) {
    this.parse = lineParserFor(config);
    this.ignore = config.ignore !== undefined ? new RegExp(config.ignore) : undefined;
  }

  interpret(bytes: Buffer): LineOutcome {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return { kind: 'rejected', reason: 'bad-utf8', detail: 'line is not valid UTF-8' };
    }
    if (this.ignore?.test(text)) return { kind: 'ignored', text };
    const result = this.parse(text);
    if (!result.ok) return { kind: 'rejected', text, reason: result.reason, detail: result.detail };
    return { kind: 'parsed', text, sensorId: result.sensorId, values: result.values };
  }
}
