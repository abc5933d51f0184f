import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { LogRing, type LogEntry } from '../../../main/log/log-ring.js';
import { createLogger, namespaced } from '../../../main/log/logger.js';

function sink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

function line(fields: Record<string, unknown>): string {
  return `${JSON.stringify({ level: 'info', time: '2026-01-01T00:00:00.000Z', app: 'fieldgate', msg: 'm', ...fields })}\n`;
}

test('the ring holds the logger lines as written: redacted, with namespace, level and time', () => {
  const ring = new LogRing({ capacity: 10 });
  const log = createLogger({ destination: sink(), ring, level: 'debug' });
  namespaced(log, 'ble').warn({ mac: 'AA:BB', bindKey: '231d39c1d7cc1ab1aee224cd096db932' }, 'bind key refused');
  log.debug('quiet');
  const [first, second] = ring.query();
  assert.equal(first?.ns, 'ble');
  assert.equal(first?.level, 'warn');
  assert.equal(first?.msg, 'bind key refused');
  assert.deepEqual(first?.fields, { mac: 'AA:BB', bindKey: '[redacted]' });
  assert.ok(Math.abs((first?.ts ?? 0) - Date.now()) < 60_000);
  assert.equal(second?.level, 'debug');
  assert.ok(!ring.query({ text: '231d39c1' }).length, 'the secret is not searchable either');
});

test('keeps only the newest entries up to its capacity', () => {
  const ring = new LogRing({ capacity: 3 });
  for (let i = 1; i <= 5; i++) ring.write(line({ msg: `m${i}` }));
  assert.deepEqual(ring.query().map((e) => [e.seq, e.msg]), [[3, 'm3'], [4, 'm4'], [5, 'm5']]);
  assert.deepEqual(ring.query({ limit: 2 }).map((e) => e.msg), ['m4', 'm5']);
  assert.deepEqual(ring.query({ afterSeq: 4 }).map((e) => e.msg), ['m5']);
});

test('queries by minimum level, namespace, text and time range', () => {
  const ring = new LogRing({ capacity: 100 });
  ring.write(line({ level: 'debug', ns: 'serial', msg: 'line parsed', time: '2026-01-01T00:00:01.000Z' }));
  ring.write(line({ level: 'warn', ns: 'serial', msg: 'port lost', port: '/dev/ttyUSB0', time: '2026-01-01T00:00:02.000Z' }));
  ring.write(line({ level: 'error', ns: 'uplink', msg: 'TLS refused', time: '2026-01-01T00:00:03.000Z' }));
  ring.write('not json at all\n');
  const msgs = (entries: LogEntry[]) => entries.map((e) => e.msg);
  assert.deepEqual(msgs(ring.query({ level: 'warn' })), ['port lost', 'TLS refused']);
  assert.deepEqual(msgs(ring.query({ ns: 'serial' })), ['line parsed', 'port lost']);
  assert.deepEqual(msgs(ring.query({ text: 'TTYUSB0' })), ['port lost']);
  assert.deepEqual(msgs(ring.query({ text: 'json' })), ['not json at all']);
  const t2 = Date.parse('2026-01-01T00:00:02.000Z');
  assert.deepEqual(msgs(ring.query({ since: t2, until: t2 + 1000 })), ['port lost', 'TLS refused']);
});

test('a tail sees each new entry until it ends', () => {
  const ring = new LogRing({ capacity: 10 });
  const seen: string[] = [];
  const end = ring.tail((entry) => seen.push(entry.msg));
  ring.write(line({ msg: 'one' }) + line({ msg: 'two' }));
  end();
  ring.write(line({ msg: 'three' }));
  assert.deepEqual(seen, ['one', 'two']);
});
