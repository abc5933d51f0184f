import { LineFramer, type FramerEvent } from '../../../../main/sensors/serial/line-framer.js';
import { LinePipeline } from '../../../../main/sensors/serial/line-pipeline.js';
import type { LineResult } from '../../../../main/sensors/serial/parsers/line-result.js';
import type { CsvPortConfig, JsonlPortConfig, KvPortConfig, LinePortConfig } from '../../../../main/shared/config/serial.js';

/** Every way to cut `bytes` into two chunks (including an empty first or last chunk). */
export function* everySplit(bytes: Buffer): Generator<Buffer[]> {
  for (let at = 0; at <= bytes.length; at++) yield [bytes.subarray(0, at), bytes.subarray(at)];
}

export function frame(chunks: readonly Buffer[], maxLineBytes: number): FramerEvent[] {
  const framer = new LineFramer(maxLineBytes);
  return chunks.flatMap((chunk) => framer.push(chunk));
}

type FormatPart = Pick<JsonlPortConfig, 'format' | 'sensor' | 'fields'> | Pick<KvPortConfig, 'format' | 'sensor' | 'fields'> | Pick<CsvPortConfig, 'format' | 'sensor' | 'delimiter' | 'columns'>;

/** A line port as the config schema resolves it, with the defaults and the given format part. */
export function linePort(part: FormatPart): LinePortConfig {
  return { id: 'test', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, maxLineBytes: 4096, maxLinesPerSecond: 100_000, maxValuesPerReading: 64, ...part } as LinePortConfig;
}

/** The production read path of a line port (LinePipeline) over `chunks`, one result per line. */
type StreamResult = LineResult | 'too-long' | 'bad-utf8';

export function parseStream(port: LinePortConfig, chunks: readonly Buffer[]): StreamResult[] {
  const pipeline = new LinePipeline(port);
  return chunks.flatMap((chunk) => pipeline.push(chunk, 0)).flatMap((event): StreamResult[] => {
    if (event.kind === 'ignored') return [];
    if (event.kind === 'parsed') return [{ ok: true, sensorId: event.sensorId, values: event.values }];
    if (event.reason === 'line-too-long') return ['too-long'];
    if (event.reason === 'bad-utf8') return ['bad-utf8'];
    return [{ ok: false, reason: event.reason, detail: event.detail }];
  });
}
