import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, namespaced } from '../../../main/log/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

test('log lines are JSON with the module namespace and level name', () => {
  const { lines, destination } = capture();
  namespaced(createLogger({ destination }), 'uplink').info({ port: 8883 }, 'connected');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.ns, 'uplink');
  assert.equal(lines[0]?.level, 'info');
  assert.equal(lines[0]?.msg, 'connected');
  assert.equal(lines[0]?.port, 8883);
});

test('secret fields are redacted at any of the first three levels', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  log.info({ bindKey: '231d39c1d7cc1ab1aee224cd096db932', device: { token: 't0p-secret', mac: 'AA:BB' }, a: { b: { password: 'hunter2' } } }, 'x');
  const text = JSON.stringify(lines[0]);
  assert.doesNotMatch(text, /231d39c1|t0p-secret|hunter2/);
  assert.equal((lines[0]?.device as Record<string, unknown>).mac, 'AA:BB');
  assert.equal(lines[0]?.bindKey, '[redacted]');
});

test('the configured level filters lower levels', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'warn', destination });
  log.info('hidden');
  log.warn('shown');
  assert.deepEqual(lines.map((l) => l.msg), ['shown']);
});
