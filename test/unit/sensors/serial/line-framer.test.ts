import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineFramer } from '../../../../main/sensors/serial/line-framer.js';
import { everySplit, frame } from './streams.js';

const lines = (events: ReturnType<typeof frame>): string[] =>
  events.map((e) => (e.kind === 'line' ? e.bytes.toString('latin1') : '<too-long>'));

describe('LineFramer', () => {
  it('ends lines at LF, CR or CRLF and skips empty lines', () => {
    assert.deepEqual(lines(frame([Buffer.from('a=1\nb=2\r\nc=3\r\r\n\nd=4\n')], 64)), ['a=1', 'b=2', 'c=3', 'd=4']);
  });

  it('keeps a partial line until its end arrives', () => {
    const framer = new LineFramer(64);
    assert.deepEqual(framer.push(Buffer.from('temp=2')), []);
    assert.deepEqual(lines(framer.push(Buffer.from('1.5\nhum'))), ['temp=21.5']);
    assert.deepEqual(lines(framer.push(Buffer.from('=40\n'))), ['hum=40']);
  });

  it('gives the same lines however the input is split, at every byte offset and byte by byte', () => {
    const input = Buffer.from('{"t":21.5}\r\nx=1 y=2\n\n°C,é,\u{1F321}\rlast\n', 'utf8');
    const expected = lines(frame([input], 64));
    assert.equal(expected.length, 4);
    for (const chunks of everySplit(input)) assert.deepEqual(lines(frame(chunks, 64)), expected);
    assert.deepEqual(lines(frame([...input].map((b) => Buffer.from([b])), 64)), expected);
  });

  it('reports an over-long line once, discards it to its end and resumes with the next line', () => {
    const input = Buffer.from(`ok=1\n${'x'.repeat(100)}\nok=2\n`);
    for (const chunks of everySplit(input)) assert.deepEqual(lines(frame(chunks, 16)), ['ok=1', '<too-long>', 'ok=2']);
    const [, tooLong] = frame([input], 16);
    assert.deepEqual(tooLong, { kind: 'too-long', head: Buffer.from('x'.repeat(64)) });
  });

  it('accepts a line of exactly the maximum length', () => {
    assert.deepEqual(lines(frame([Buffer.from(`${'y'.repeat(16)}\n`)], 16)), ['y'.repeat(16)]);
  });

  it('reports a 1 MB line without a newline once and drops it through its end', () => {
    const framer = new LineFramer(4096);
    const events = [];
    for (let i = 0; i < 16; i++) events.push(...framer.push(Buffer.alloc(64 * 1024, 0x41)));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.kind, 'too-long');
    assert.deepEqual(lines(framer.push(Buffer.from('tail\nnext=1\n'))), ['next=1']);
  });
});
