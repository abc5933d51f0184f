import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiErrorBodySchema, apiMethods, httpRoute, METHOD_NAMES } from '../../../main/shared/api.js';
import { EXPECTED_STATUS, SAMPLE_INPUTS } from '../../unit/api/fake-backends.js';
import { startFakeServer } from './server-fixture.js';


test('the served routes are exactly the method table (plus events, metrics and the UI)', async (t) => {
  const { server } = await startFakeServer(t);
  const expected = METHOD_NAMES.map((name) => {
    const { verb, url } = httpRoute(name);
    return `${verb} ${url}`;
  });
  const apiRoutes = server.routes.filter((route) => route.includes(' /api/') && route !== 'GET /api/events');
  assert.deepEqual([...apiRoutes].sort(), [...expected].sort());
  assert.equal(new Set(expected).size, expected.length, 'two methods share a route');
  assert.ok(server.routes.includes('GET /api/events'));
  assert.ok(server.routes.includes('GET /api/status'), 'README: GET /api/status');
  assert.ok(server.routes.includes('GET /metrics'), 'README: GET /metrics');
});

test('every method works over HTTP: input checked, result matches its schema', async (t) => {
  const fixture = await startFakeServer(t);
  const admin = await fixture.admin();
  const order = [...METHOD_NAMES.filter((name) => name !== 'logout'), 'logout' as const];
  for (const name of order) {
    let answer;
    if (name === 'uploadBundle') {
      const bytes = new Uint8Array(200_000).fill(7);
      answer = await admin.request('POST', `${httpRoute(name).url}?input=${encodeURIComponent(JSON.stringify(SAMPLE_INPUTS.uploadBundle))}`, {
        raw: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      });
    } else {
      answer = await admin.call(name, SAMPLE_INPUTS[name] as never);
    }
    const expected = EXPECTED_STATUS[name] ?? 200;
    assert.equal(answer.status, expected, `${name}: ${JSON.stringify(answer.body)}`);
    const schema = expected === 200 ? apiMethods[name].result : apiErrorBodySchema;
    assert.ok(schema.safeParse(answer.body).success, `${name} answered ${JSON.stringify(answer.body)}`);
  }
  const uploaded = fixture.fake.uploaded.reduce((total, chunk) => total + chunk.length, 0);
  assert.equal(uploaded, 200_000);
  assert.ok(fixture.fake.uploaded.length > 1, 'the body arrived as a stream of chunks');
  const seen = new Set(fixture.fake.calls.map((call) => call.method));
  for (const name of METHOD_NAMES.filter((n) => !['setupState', 'completeSetup', 'login', 'logout', 'session', 'changePassword', 'users', 'addUser', 'removeUser', 'resetPassword', 'about'].includes(n))) {
    assert.ok(seen.has(name), `${name} reached its backend`);
  }
  assert.deepEqual(fixture.fake.calls.find((call) => call.method === 'history')?.input, { windowSeconds: 600 });
});

test('a stale config version → 409 with the current version', async (t) => {
  const fixture = await startFakeServer(t);
  const admin = await fixture.admin();
  const stale = await admin.call('updateConfig', { patch: { log: { level: 'debug' } }, version: 'v0' });
  assert.equal(stale.status, 409);
  assert.deepEqual(stale.body, { error: 'conflict', message: 'the config changed since you read it', currentVersion: 'v1', hint: 'reload and edit again' });
});

test('an upload beyond the cap is refused with too-large and the server keeps serving', async (t) => {
  const fixture = await startFakeServer(t, { maxUploadBytes: 1000 });
  const admin = await fixture.admin();
  const answer = await admin.request('POST', '/api/ota/bundle', { raw: new Uint8Array(5000), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(answer.status, 413);
  assert.equal((answer.body as { error: string }).error, 'too-large');
  assert.equal((await admin.call('otaStatus')).status, 200);
});

test('an area whose service is missing answers 503 unavailable, naming it', async (t) => {
  const fixture = await startFakeServer(t);
  delete fixture.fake.backends.ble;
  const admin = await fixture.admin();
  const answer = await admin.call('startPairing', {});
  assert.equal(answer.status, 503);
  assert.match((answer.body as { message: string }).message, /BLE pairing/);
});

test('a backend failure answers a generic 500; the details stay out of the answer', async (t) => {
  const fixture = await startFakeServer(t);
  fixture.fake.backends.alerts = { alerts: () => { throw new Error('sqlite: /var/lib/fieldgate/alerts.db is corrupt'); } };
  fixture.fake.backends.history = { history: () => ({ stepSeconds: 'sixty' }) as never };
  const admin = await fixture.admin();
  for (const name of ['alerts', 'history'] as const) {
    const answer = await admin.call(name, {});
    assert.equal(answer.status, 500, name);
    assert.deepEqual(answer.body, { error: 'internal', message: 'internal error (details are in the gateway log)' });
  }
  assert.equal((await admin.call('status')).status, 200);
});
