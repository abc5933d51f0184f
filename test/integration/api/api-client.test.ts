import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ApiClient, ApiClientError, backoffDelay, httpTransport, type ConnectionState, type WebSocketLike } from '../../../main/shared/api-client.js';
import type { ApiEvent } from '../../../main/shared/api.js';
import { freePort } from '../../helpers/net.js';
import { ADMIN_PASSWORD } from './fixture.js';
import { startFakeServer } from './server-fixture.js';
import { apiDataDir } from '../../../main/config/location.js';
import { readSetupCode } from '../../../main/api/setup-code.js';

/** What a browser adds by itself: cookies, and Origin on every request and on the WebSocket upgrade. */
function browserLike(base: string) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const doFetch: typeof fetch = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('origin', base);
    if (jar.size > 0) headers.set('cookie', cookieHeader());
    const response = await fetch(input, { ...init, headers, ...(init.body instanceof Blob ? { duplex: 'half' } : {}) } as RequestInit);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name && value.join('=') !== '') jar.set(name, value.join('='));
      else if (name) jar.delete(name);
    }
    return response;
  };
  const openWebSocket = (url: string) => new WebSocket(url, { headers: { origin: base, cookie: cookieHeader() } }) as unknown as WebSocketLike;
  return { fetch: doFetch, openWebSocket, csrfToken: () => jar.get('fieldgate_csrf') };
}

test('the client library: typed calls, typed errors, events, and a resync after the server comes back', async (t) => {
  const port = await freePort();
  const fixture = await startFakeServer(t, { ui: { port } });
  const client = new ApiClient(httpTransport({ baseUrl: fixture.url, ...browserLike(fixture.url), random: () => 0 }));
  assert.equal((await client.call('setupState', {})).needsSetup, true);
  const code = readSetupCode(apiDataDir(fixture.dataDir), Date.now())!.code;
  const session = await client.call('completeSetup', { code, password: ADMIN_PASSWORD });
  assert.equal(session.role, 'admin');
  assert.equal((await client.call('status', {})).uplink?.lastError?.kind, 'unknown-ca');
  const rejected = await client.call('addBleSensor', { mac: 'C4:7C:8D:6A:3E:01', id: 'b', bindKey: '0'.repeat(32) }).catch((error: unknown) => error);
  assert.ok(rejected instanceof ApiClientError);
  assert.equal(rejected.kind, 'bad-request');
  assert.equal(rejected.body.field, 'bindKey');
  const uploaded = await client.uploadBundle(new Blob([new Uint8Array(3000)]));
  assert.equal(uploaded.bytes, 3000);

  const events: ApiEvent[] = [];
  const states: ConnectionState[] = [];
  let resyncs = 0;
  client.events.subscribe((event) => events.push(event));
  client.events.onConnection((state) => states.push(state));
  const opened = (count: number) =>
    new Promise<void>((resolve) => {
      const check = client.events.onConnection(() => {
        if (states.filter((state) => state === 'open').length >= count) {
          check();
          resolve();
        }
      });
    });
  const resynced = new Promise<void>((resolve) => client.events.onResync(() => (resyncs++, resolve())));
  let firstOpen = opened(1);
  client.events.connect();
  t.after(() => client.events.disconnect());
  await firstOpen;
  await client.call('startPairing', {});
  while (!events.some((event) => event.type === 'pairing-nearby')) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(resyncs, 0);

  // The gateway restarts its API server (a ui change): the stream reconnects and asks for a resync.
  firstOpen = opened(2);
  await fixture.server.stop();
  await fixture.server.start();
  await firstOpen;
  await resynced;
  assert.equal(resyncs, 1);
  assert.deepEqual(states.slice(0, 2), ['connecting', 'open']);

  await client.call('logout', {});
  while (client.events.state !== 'signed-out') await new Promise((resolve) => setTimeout(resolve, 10));
});

test('reconnect delays grow exponentially with full jitter and a cap', () => {
  assert.equal(backoffDelay(0, () => 0.999), 499);
  assert.equal(backoffDelay(3, () => 0.5), 2000);
  assert.equal(backoffDelay(40, () => 0.999), 29_970);
  assert.equal(backoffDelay(5, () => 0), 0);
});

test('the event stream of a signed-out client says so instead of reconnecting forever', async (t) => {
  const fixture = await startFakeServer(t);
  const client = new ApiClient(httpTransport({ baseUrl: fixture.url, ...browserLike(fixture.url), random: () => 0 }));
  const signedOut = new Promise<void>((resolve) => client.events.onConnection((state) => state === 'signed-out' && resolve()));
  client.events.connect();
  t.after(() => client.events.disconnect());
  await signedOut;
  assert.equal(client.events.state, 'signed-out');
});
