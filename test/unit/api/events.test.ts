import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventHub } from '../../../main/api/events.js';
import { silentLogger } from '../../../main/log/logger.js';
import type { ApiEvent } from '../../../main/shared/api.js';

const valuesEvent = (sensorId: string, value: number): ApiEvent => ({
  type: 'values',
  sensor: { sensorId, values: [{ quantity: 'temperature', value, at: '2026-01-01T00:00:00.000Z' }] },
});

test('values events are throttled per sensor: the first at once, then only the latest', async () => {
  let now = 0;
  const hub = new EventHub({ log: silentLogger, now: () => now, valuesIntervalMs: 10 });
  const seen: string[] = [];
  let delivered: () => void = () => undefined;
  const trailing = new Promise<void>((resolve) => (delivered = resolve));
  hub.subscribe((event) => {
    if (event.type !== 'values') return;
    seen.push(`${event.sensor.sensorId}=${event.sensor.values[0]?.value}`);
    if (seen.includes('a=3')) delivered();
  });
  hub.publish(valuesEvent('a', 1));
  hub.publish(valuesEvent('a', 2));
  hub.publish(valuesEvent('b', 1));
  hub.publish(valuesEvent('a', 3));
  assert.deepEqual(seen, ['a=1', 'b=1']);
  now = 10;
  // The hub's throttle timer is unref'd (it must not keep a stopping gateway alive): hold the loop open meanwhile.
  const keepAlive = setInterval(() => undefined, 1_000);
  await trailing;
  clearInterval(keepAlive);
  assert.deepEqual(seen, ['a=1', 'b=1', 'a=3']);
  hub.close();
});

test('an event that does not match the contract is dropped, others pass', () => {
  const hub = new EventHub({ log: silentLogger, now: () => 0 });
  const seen: unknown[] = [];
  hub.subscribe((event) => seen.push(event.type));
  hub.publish({ type: 'ota-progress', bundleId: 'b', phase: 'exploding', bytesDone: 0, bytesTotal: 0 } as unknown as ApiEvent);
  hub.publish({ type: 'session', state: 'open' });
  assert.deepEqual(seen, ['session']);
});
