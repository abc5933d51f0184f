// Property tests for the serial line path (UTF-8 decode, framing, jsonl/kv/csv parsers, value
// cap) and Modbus RTU response frames: never a throw, every rejection one of the README's reasons.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineFramer } from '../../../main/sensors/serial/line-framer.js';
import { LineInterpreter, type LineOutcome } from '../../../main/sensors/serial/line-interpreter.js';
import type { ReadRequest } from '../../../main/sensors/modbus/pdu.js';
import { buildReadRequest, parseReadResponse } from '../../../main/sensors/serial/modbus/frames.js';
import { withCrc } from '../../../main/sensors/serial/modbus/crc16.js';
import { serialPortSchema, type LinePortConfig } from '../../../main/shared/config/serial.js';
import { fuzz, mutatedBytes, mutatedText } from './harness.js';

/** README, "Serial sensors": the reasons a line or frame is dropped. */
const DOCUMENTED_REASONS = new Set([
  'line-too-long', 'rate-limited', 'bad-utf8', 'bad-json', 'bad-format', 'bad-value', 'no-values', 'too-many-values',
  'column-count', 'unknown-sensor', 'bad-sensor-id', 'bad-crc', 'exception', 'timeout', 'bad-frame',
]);
const MAX_VALUES = 8;

const portOf = (settings: Record<string, unknown>): LinePortConfig =>
  serialPortSchema.parse({ id: 'p', path: '/dev/ttyUSB0', maxValuesPerReading: MAX_VALUES, ...settings }) as LinePortConfig;

const PORTS = {
  jsonlFree: portOf({ format: 'jsonl', sensorIdFrom: 'sensor' }),
  jsonlFields: portOf({ format: 'jsonl', sensorId: 's1', fields: { t: { quantity: 'temperature', unit: '°C', scale: 0.1 }, h: { unit: '%' } } }),
  jsonlMapped: portOf({ format: 'jsonl', sensorIdFrom: 'id', sensorIds: { '7': 'room-7', a: 'room-a' } }),
  kvFree: portOf({ format: 'kv', sensorIdFrom: 'id' }),
  kvFields: portOf({ format: 'kv', sensorId: 's2', fields: { t: { scale: 1e300 }, h: { offset: -5 } } }),
  csv: portOf({ format: 'csv', columns: ['sensorId', { quantity: 'temperature', unit: '°C' }, 'skip', { quantity: 'rh', scale: 10 }] }),
  csvSemicolon: portOf({ format: 'csv', sensorId: 's3', delimiter: ';', columns: [{ quantity: 'a' }, { quantity: 'b' }], ignore: '^#' }),
};
const INTERPRETERS = Object.fromEntries(Object.entries(PORTS).map(([name, port]) => [name, new LineInterpreter(port)])) as Record<keyof typeof PORTS, LineInterpreter>;
const SENSOR_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkOutcome(outcome: LineOutcome): void {
  if (outcome.kind === 'rejected') {
    assert.ok(DOCUMENTED_REASONS.has(outcome.reason), `undocumented reason ${outcome.reason}`);
    assert.equal(typeof outcome.detail, 'string');
    assert.ok(outcome.detail.length > 0 && outcome.detail.length < 400, `detail is short: ${outcome.detail.length}`);
    return;
  }
  if (outcome.kind === 'ignored') return;
  assert.match(outcome.sensorId, SENSOR_ID);
  const entries = Object.entries(outcome.values);
  assert.ok(entries.length >= 1 && entries.length <= MAX_VALUES, `${entries.length} values`);
  for (const [, measurement] of entries) {
    assert.ok(Number.isFinite(measurement.value), `finite value, got ${measurement.value}`);
    assert.equal(typeof measurement.unit, 'string');
  }
}

const key = fc.oneof(fc.constantFrom('sensor', 'id', 't', 'h', 'temperature', 'rh', '__proto__', 'constructor', 'hasOwnProperty', 'a.b', '7'), fc.string({ maxLength: 8 }));
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 1e308, 5e-324, 2 ** 53 + 1));
const numberText = fc.oneof(number.map(String), fc.constantFrom('1e400', '-1e400', 'NaN', 'Infinity', '0x1f', '1_000', '.5', '5.', '+3', '--1', '1e', ''));
const jsonValue = fc.oneof(number, fc.string({ maxLength: 6 }), fc.record({ value: number, unit: fc.string({ maxLength: 40 }) }), fc.constant(null), fc.boolean(), fc.jsonValue({ maxDepth: 2 }));
const jsonLine = fc
  .tuple(fc.dictionary(key, jsonValue, { maxKeys: 12 }), fc.option(fc.constantFrom('s1', '7', 'a', 'bad id', ''), { nil: undefined }))
  .map(([record, sensor]) => JSON.stringify(sensor === undefined ? record : { ...record, sensor, id: sensor }).replace(/"1e400"/g, '1e400'));
const kvLine = fc
  .array(fc.tuple(key, fc.constantFrom('=', ':'), fc.oneof(numberText, fc.string({ maxLength: 5 }))), { maxLength: 12 })
  .chain((pairs) => fc.constantFrom(' ', ',', ';', '\t', ' , ').map((sep) => pairs.map(([k, op, v]) => `${k}${op}${v}`).join(sep)));
const csvLine = fc
  .array(fc.oneof(numberText, fc.constantFrom('s1', '"s2"', ' "3" ', '"', '""'), fc.string({ maxLength: 4 })), { maxLength: 6 })
  .chain((cells) => fc.constantFrom(',', ';').map((sep) => cells.join(sep)));
const anyLine = fc.oneof(
  { weight: 3, arbitrary: mutatedText(fc.oneof(jsonLine, kvLine, csvLine)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
);

/** Strings that once needed care: overflow, prototype keys, huge key counts, lone surrogates. */
const LINE_REGRESSIONS = [
  '{"n":3,"v":1e400}',
  '{"__proto__":{"value":1},"constructor":2,"sensor":"s1"}',
  JSON.stringify(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]))),
  'id=s1 ' + 'a=1 '.repeat(2000),
  '=:=:=:=:',
  ',,,,,,,,,,,,,',
  '"\uD800",1,2,3',
  `{"sensor":"${'x'.repeat(4096)}","t":1}`,
];

describe('fuzz: serial lines', () => {
  for (const [name, interpreter] of Object.entries(INTERPRETERS)) {
    it(`${name}: any text line gives a parsed reading or a documented reason`, () => {
      const runs = fuzz(anyLine, (line) => checkOutcome(interpreter.interpret(Buffer.from(line))), { regressions: LINE_REGRESSIONS, cases: 2_000 });
      assert.equal(runs, 2_000);
    });
  }

  it('the whole line path on raw bytes: framer, UTF-8 decode, parser', () => {
    const bytes = mutatedBytes(fc.oneof(jsonLine, kvLine, csvLine).map((line) => new TextEncoder().encode(`${line}\r\n`)));
    const chunks = fc.array(fc.oneof(bytes, fc.uint8Array({ maxLength: 64 })), { minLength: 1, maxLength: 4 });
    fuzz(chunks, (pieces) => {
      const framer = new LineFramer(256);
      const interpreters = Object.values(INTERPRETERS);
      for (const piece of pieces) {
        for (const event of framer.push(Buffer.from(piece))) {
          if (event.kind === 'too-long') {
            assert.ok(event.head.length <= 256);
            continue;
          }
          assert.ok(event.bytes.length > 0 && event.bytes.length <= 256, `line of ${event.bytes.length} bytes`);
          assert.equal(event.bytes.includes(0x0a) || event.bytes.includes(0x0d), false);
          for (const interpreter of interpreters) checkOutcome(interpreter.interpret(event.bytes));
        }
      }
    });
  });
});

const MODBUS_KINDS = new Set(['incomplete', 'data', 'exception', 'bad-crc', 'bad-frame']);
const readRequest = fc.record({
  unit: fc.integer({ min: 1, max: 247 }),
  fn: fc.constantFrom(0x03 as const, 0x04 as const),
  address: fc.integer({ min: 0, max: 0xffff }),
  count: fc.integer({ min: 1, max: 125 }),
});

function validResponse(request: ReadRequest, words: number[]): Uint8Array {
  const body = Buffer.alloc(3 + request.count * 2);
  body.writeUInt8(request.unit, 0);
  body.writeUInt8(request.fn, 1);
  body.writeUInt8(request.count * 2, 2);
  for (let i = 0; i < request.count; i++) body.writeUInt16BE((words[i % Math.max(1, words.length)] ?? 0) & 0xffff, 3 + i * 2);
  return withCrc(body);
}

describe('fuzz: Modbus RTU response frames', () => {
  it('noise, valid frames mutated, exceptions and split chunks: a typed result, never a throw', () => {
    const exceptionFrame = (request: ReadRequest, code: number) => withCrc(Buffer.from([request.unit, request.fn | 0x80, code]));
    const scenario = readRequest.chain((request) =>
      fc.record({
        request: fc.constant(request),
        received: fc.oneof(
          mutatedBytes(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 4 }).map((words) => validResponse(request, words))),
          mutatedBytes(fc.integer({ min: 0, max: 255 }).map((code) => exceptionFrame(request, code))),
          fc.tuple(fc.uint8Array({ maxLength: 8 }), fc.constant(validResponse(request, [1, 2]))).map(([noise, frame]) => Uint8Array.from([...noise, ...frame])),
          fc.uint8Array({ maxLength: 300 }),
        ),
      }),
    );
    fuzz(scenario, ({ request, received }) => {
      assert.equal(buildReadRequest(request).length, 8);
      // Called on every prefix as chunks arrive, as the poller does.
      for (let end = 0; end <= received.length; end += Math.max(1, Math.floor(received.length / 8))) {
        const result = parseReadResponse(Buffer.from(received.subarray(0, end)), request);
        assert.ok(MODBUS_KINDS.has(result.kind), result.kind);
        if (result.kind === 'data') {
          assert.equal(result.data.length, request.count);
          for (const word of result.data) assert.ok(Number.isInteger(word) && word >= 0 && word <= 0xffff);
        }
        if (result.kind === 'exception') assert.ok(result.code >= 0 && result.code <= 255);
      }
    });
  });

  it('a valid frame after line noise is always found, whatever the split', () => {
    fuzz(fc.tuple(readRequest, fc.uint8Array({ maxLength: 6 })), ([request, noise]) => {
      const clean = noise.filter((byte) => byte !== request.unit);
      const frame = validResponse(request, [0xbeef]);
      const result = parseReadResponse(Buffer.from([...clean, ...frame]), request);
      assert.equal(result.kind, 'data');
    });
  });
});
