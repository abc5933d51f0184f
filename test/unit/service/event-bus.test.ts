import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../main/log/logger.js';
import { EventBus } from '../../../main/service/event-bus.js';

interface Events {
  tick: number;
  named: { name: string };
}

test('listeners get their event only, until they unsubscribe; one that throws is logged and the rest still run', () => {
  const lines: string[] = [];
  const log = createLogger({ destination: new Writable({ write: (chunk: Buffer, _e, cb) => { lines.push(chunk.toString()); cb(); } }) });
  const bus = new EventBus<Events>({ log });
  const seen: string[] = [];
  bus.on('tick', () => {
    throw new Error('boom');
  });
  const off = bus.on('tick', (n) => seen.push(`a${n}`));
  bus.on('named', (e) => seen.push(e.name));
  bus.emit('tick', 1);
  off();
  bus.emit('tick', 2);
  bus.emit('named', { name: 'x' });
  assert.deepEqual(seen, ['a1', 'x']);
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /"event":"tick".*"msg":"event listener failed"/);
});
