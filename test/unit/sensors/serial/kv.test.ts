import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kvParser } from '../../../../main/sensors/serial/parsers/kv.js';
import { everySplit, linePort, parseStream } from './streams.js';

const sensor = { kind: 'fixed' as const, sensorId: 'k1' };
const fixed = kvParser({ sensor });
const port = linePort({ format: 'kv', sensor });

describe('kv parser', () => {
  it('reads key=value pairs separated by spaces, tabs, commas or semicolons', () => {
    const expected = { ok: true, sensorId: 'k1', values: { temp: { value: 21.5, unit: '' }, hum: { value: 40, unit: '' } } };
    for (const line of ['temp=21.5 hum=40', 'temp=21.5,hum=40', 'temp:21.5;\thum:40', '  temp=21.5   hum=40  ']) {
      assert.deepEqual(fixed(line), expected, line);
    }
  });

  it('ignores non-numeric values unless configured, and reads the sensor id from a key', () => {
    const parse = kvParser({
      sensor: { kind: 'field', field: 'id' },
      fields: { temp: { quantity: 'temperature', unit: '°C', scale: 1, offset: 0 } },
    });
    assert.deepEqual(parse('id=node-4 status=ok temp=-3.25 vbat=3.1'), {
      ok: true,
      sensorId: 'node-4',
      values: { temperature: { value: -3.25, unit: '°C' } },
    });
    assert.equal((parse('id=node-4 temp=hot') as { reason: string }).reason, 'bad-value');
    assert.equal((parse('temp=1') as { reason: string }).reason, 'bad-sensor-id');
  });

  it('rejects malformed lines by reason', () => {
    assert.equal((fixed('hello world') as { reason: string }).reason, 'bad-format');
    assert.equal((fixed('=5') as { reason: string }).reason, 'bad-format');
    assert.equal((fixed('status=ok') as { reason: string }).reason, 'no-values');
    assert.equal((fixed('t=0x1F') as { reason: string }).reason, 'no-values');
    assert.equal((fixed('t=Infinity') as { reason: string }).reason, 'no-values');
  });

  it('counts a number too large to be finite as bad-value with and without fields', () => {
    const mapped = kvParser({ sensor: { kind: 'fixed', sensorId: 'k1' }, fields: { v: { unit: '', scale: 1, offset: 0 }, n: { unit: '', scale: 1, offset: 0 } } });
    for (const parse of [fixed, mapped]) {
      const result = parse('n=3 v=1e400') as { reason: string; detail: string };
      assert.equal(result.reason, 'bad-value');
      assert.match(result.detail, /^"v" is not a finite number/);
    }
  });

  it('parses a stream the same at every split offset', () => {
    const input = Buffer.from('temp=21.5 hum=40\r\ngarbage\ntemp=22\n', 'utf8');
    const expected = parseStream(port, [input]);
    assert.deepEqual(
      expected.map((r) => (typeof r === 'string' ? r : r.ok ? r.values : r.reason)),
      [{ temp: { value: 21.5, unit: '' }, hum: { value: 40, unit: '' } }, 'bad-format', { temp: { value: 22, unit: '' } }],
    );
    for (const chunks of everySplit(input)) assert.deepEqual(parseStream(port, chunks), expected);
  });
});
