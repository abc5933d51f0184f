import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonlParser } from '../../../../main/sensors/serial/parsers/jsonl.js';
import { everySplit, linePort, parseStream } from './streams.js';

const sensor = { kind: 'fixed' as const, sensorId: 'bench' };
const fixed = jsonlParser({ sensor });
const port = linePort({ format: 'jsonl', sensor });

describe('jsonl parser', () => {
  it('takes numbers and {value, unit} objects as values and ignores other fields', () => {
    assert.deepEqual(fixed('{"temperature":21.5,"rh":{"value":40,"unit":"%"},"fw":"1.2.0","ok":true}'), {
      ok: true,
      sensorId: 'bench',
      values: { temperature: { value: 21.5, unit: '' }, rh: { value: 40, unit: '%' } },
    });
  });

  it('maps, scales and filters fields when fields are configured', () => {
    const parse = jsonlParser({
      sensor: { kind: 'fixed', sensorId: 'bench' },
      fields: { t: { quantity: 'temperature', unit: '°C', scale: 0.1, offset: 0 }, p: { unit: 'hPa', scale: 1, offset: 1000 } },
    });
    assert.deepEqual(parse('{"t":215,"p":13.25,"uptime":99}'), {
      ok: true,
      sensorId: 'bench',
      values: { temperature: { value: 21.5, unit: '°C' }, p: { value: 1013.25, unit: 'hPa' } },
    });
    assert.equal((parse('{"t":"warm"}') as { reason: string }).reason, 'bad-value');
    assert.equal((parse('{"uptime":1}') as { reason: string }).reason, 'no-values');
  });

  it('reads the sensor id from a field and maps it; unknown ids are rejected', () => {
    const parse = jsonlParser({ sensor: { kind: 'field', field: 'id', map: { A1: 'greenhouse-1', '7': 'shed' } } });
    assert.deepEqual(parse('{"id":"A1","t":1}'), { ok: true, sensorId: 'greenhouse-1', values: { t: { value: 1, unit: '' } } });
    assert.equal((parse('{"id":7,"t":1}') as { sensorId: string }).sensorId, 'shed');
    assert.equal((parse('{"id":"B2","t":1}') as { reason: string }).reason, 'unknown-sensor');
    assert.equal((parse('{"id":"__proto__","t":1}') as { reason: string }).reason, 'unknown-sensor');
    assert.equal((parse('{"t":1}') as { reason: string }).reason, 'bad-sensor-id');
  });

  it('takes a raw sensor id only when it is a valid identifier', () => {
    const parse = jsonlParser({ sensor: { kind: 'field', field: 'id' } });
    assert.equal((parse('{"id":"probe-3","t":1}') as { sensorId: string }).sensorId, 'probe-3');
    assert.equal((parse('{"id":"a/b#","t":1}') as { reason: string }).reason, 'bad-sensor-id');
  });

  it('rejects what is not one JSON object per line, by reason, without throwing', () => {
    for (const line of ['{"t":', '[1,2]', '42', 'null', '"text"', '\u0000\u0001']) {
      assert.equal((fixed(line) as { reason: string }).reason, 'bad-json', line);
    }
    const tricky = fixed('{"__proto__":{"value":1},"constructor":2}') as { values: object };
    assert.deepEqual(Object.keys(tricky.values), ['constructor']);
    assert.equal(Object.getPrototypeOf(tricky.values), Object.prototype);
  });

  it('counts a non-finite number as bad-value with and without fields, as the README promises', () => {
    const mapped = jsonlParser({ sensor: { kind: 'fixed', sensorId: 'bench' }, fields: { v: { unit: '', scale: 1, offset: 0 }, n: { unit: '', scale: 1, offset: 0 } } });
    for (const parse of [fixed, mapped]) {
      for (const line of ['{"n":3,"v":1e400}', '{"n":3,"v":-1e400}', '{"n":3,"v":{"value":1e400,"unit":"%"}}']) {
        const result = parse(line) as { ok: boolean; reason: string; detail: string };
        assert.equal(result.reason, 'bad-value', line);
        assert.match(result.detail, /^"v" /, line);
      }
    }
    const unlisted = jsonlParser({ sensor: { kind: 'fixed', sensorId: 'bench' }, fields: { n: { unit: '', scale: 1, offset: 0 } } });
    assert.deepEqual(unlisted('{"n":3,"v":1e400}'), { ok: true, sensorId: 'bench', values: { n: { value: 3, unit: '' } } }, 'fields not configured are ignored, whatever they hold');
  });

  it('parses a stream the same at every split offset', () => {
    const input = Buffer.from('{"temperature":21.5}\n{"bad":\n{"rh":{"value":40,"unit":"%"}}\r\n', 'utf8');
    const expected = parseStream(port, [input]);
    assert.deepEqual(
      expected.map((r) => (typeof r === 'string' ? r : r.ok ? 'ok' : r.reason)),
      ['ok', 'bad-json', 'ok'],
    );
    for (const chunks of everySplit(input)) assert.deepEqual(parseStream(port, chunks), expected);
  });
});
