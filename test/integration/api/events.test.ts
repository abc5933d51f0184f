import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { apiEventSchema, EVENTS_PATH, type ApiEvent } from '../../../main/shared/api.js';
import { BrowserClient } from './fixture.js';
import { startFakeServer } from './server-fixture.js';

function connect(url: string, headers: Record<string, string>): { socket: WebSocket; events: ApiEvent[]; next(type: ApiEvent['type']): Promise<ApiEvent> } {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}${EVENTS_PATH}`, { headers });
  const events: ApiEvent[] = [];
  const waiters: { type: string; resolve: (event: ApiEvent) => void }[] = [];
  socket.on('message', (data) => {
    const event = apiEventSchema.parse(JSON.parse(String(data)));
    events.push(event);
    for (const waiter of waiters.filter((w) => w.type === event.type)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  });
  return {
    socket,
    events,
    next: (type) => {
      const seen = events.find((event) => event.type === type);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ type, resolve }));
    },
  };
}

function cookieHeader(client: BrowserClient): string {
  return [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

async function refusedWith(socket: WebSocket): Promise<number> {
  const [, response] = (await once(socket, 'unexpected-response')) as [unknown, { statusCode: number }];
  return response.statusCode;
}

test('the event WebSocket needs a session and a matching Origin', async (t) => {
  const fixture = await startFakeServer(t);
  const admin = await fixture.admin();
  assert.equal(await refusedWith(connect(fixture.url, { origin: fixture.url }).socket), 401);
  assert.equal(await refusedWith(connect(fixture.url, { origin: 'http://attacker.example', cookie: cookieHeader(admin) }).socket), 403);
  assert.equal(await refusedWith(connect(fixture.url, { cookie: cookieHeader(admin) }).socket), 403, 'a cookie without Origin is refused');
  assert.equal(await refusedWith(connect(fixture.url, { origin: fixture.url, cookie: cookieHeader(admin), host: 'attacker.example' }).socket), 421);
});

test('typed events reach the socket: pairing, serial preview, OTA progress; logout closes it', async (t) => {
  const fixture = await startFakeServer(t);
  const admin = await fixture.admin();
  const stream = connect(fixture.url, { origin: fixture.url, cookie: cookieHeader(admin) });
  t.after(() => stream.socket.close());
  assert.deepEqual(await stream.next('session'), { type: 'session', state: 'open' });
  const status = await stream.next('status');
  assert.equal(status.type === 'status' ? status.status.uplink?.lastError?.kind : undefined, 'unknown-ca', 'status is pushed, not polled');
  assert.equal((await admin.call('startPairing', {})).status, 200);
  assert.deepEqual(await stream.next('pairing-nearby'), { type: 'pairing-nearby', sessionId: 's1', devices: [] });
  await admin.call('startSerialPreview', { entry: { port: '/dev/ttyUSB0', format: 'jsonl' } });
  const line = await stream.next('serial-preview');
  assert.equal(line.type === 'serial-preview' && !line.result.ok ? line.result.reason : undefined, 'unknown-field');
  await admin.call('installBundle', { bundleId: 'b1' });
  assert.deepEqual(await stream.next('ota-progress'), { type: 'ota-progress', bundleId: 'b1', phase: 'staging', bytesDone: 1, bytesTotal: 2 });

  fixture.control.events.publish({ type: 'values', sensor: { sensorId: 'ble-1', values: [{ quantity: 'temperature', value: 1, at: '2026-01-01T00:00:00.000Z' }] } });
  fixture.control.events.publish({ type: 'values', sensor: { sensorId: 'ble-1', values: [{ quantity: 'temperature', value: 2, at: '2026-01-01T00:00:00.100Z' }] } });
  fixture.control.events.publish({ type: 'values', sensor: { sensorId: 'ble-1', values: [{ quantity: 'temperature', value: 3, at: '2026-01-01T00:00:00.200Z' }] } });
  const first = await stream.next('values');
  assert.equal(first.type === 'values' ? first.sensor.values[0]?.value : undefined, 1);

  const closed = once(stream.socket, 'close');
  assert.equal((await admin.call('logout')).status, 200);
  const [code] = (await closed) as [number];
  assert.equal(code, 4001);
  assert.deepEqual(stream.events.at(-1), { type: 'session', state: 'ended' });
  const values = stream.events.filter((event) => event.type === 'values');
  assert.ok(values.length <= 2, 'values are throttled per sensor (the first at once, the latest later)');
});
