import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, BrowserClient, setUpAdmin, startGateway } from './fixture.js';

test('no session → 401; the UI page and setupState stay public', async (t) => {
  const gw = await startGateway(t);
  const anonymous = new BrowserClient(gw.url);
  const status = await anonymous.call('status');
  assert.equal(status.status, 401);
  assert.deepEqual(Object.keys(status.body as object).sort(), ['error', 'hint', 'message']);
  assert.equal((status.body as { error: string }).error, 'unauthorized');
  assert.equal((await anonymous.request('GET', '/')).status, 200);
  const setup = await anonymous.call('setupState');
  assert.equal(setup.status, 200);
  assert.equal((setup.body as { needsSetup: boolean }).needsSetup, true);
  assert.equal((setup.body as { code?: string }).code, undefined, 'the code is never sent over the network');
});

test('the setup code works once; the account file is 0600 and holds no password', async (t) => {
  const gw = await startGateway(t);
  const code = gw.setupCode();
  assert.match(code, /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
  const weak = new BrowserClient(gw.url);
  await weak.open();
  const refusedPassword = await weak.call('completeSetup', { code, password: 'password1234' });
  assert.equal(refusedPassword.status, 400);
  assert.equal((refusedPassword.body as { field: string }).field, 'password');

  const first = new BrowserClient(gw.url);
  await first.open();
  const done = await first.call('completeSetup', { code: code.toLowerCase(), password: ADMIN_PASSWORD });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal((done.body as { role: string }).role, 'admin');
  assert.equal((await first.call('status')).status, 200);

  const second = new BrowserClient(gw.url);
  await second.open();
  const reused = await second.call('completeSetup', { code, password: 'another long passphrase' });
  assert.equal(reused.status, 409);
  const accounts = join(gw.dataDir, 'api', 'accounts.json');
  assert.equal(statSync(accounts).mode & 0o777, 0o600);
  assert.doesNotMatch(JSON.stringify(await import('node:fs').then((fs) => fs.readFileSync(accounts, 'utf8'))), /horse/);
  const setupState = await second.call('setupState');
  assert.equal((setupState.body as { needsSetup: boolean }).needsSetup, false);
});

test('a wrong setup code is refused and counted', async (t) => {
  const gw = await startGateway(t);
  const client = new BrowserClient(gw.url);
  await client.open();
  const wrong = await client.call('completeSetup', { code: 'AAAA-BBBB-CCCC', password: ADMIN_PASSWORD });
  assert.equal(wrong.status, 403);
  assert.equal((wrong.body as { field: string }).field, 'code');
  const admin = await setUpAdmin(gw);
  const metrics = await admin.request('GET', '/metrics');
  assert.match(metrics.body as string, /fieldgate_api_auth_failures_total\{reason="wrong-setup-code"\} 1/);
});

test('session cookie flags; logout ends the session on the server', async (t) => {
  const gw = await startGateway(t);
  const anonymous = new BrowserClient(gw.url);
  await anonymous.open();
  const login = await anonymous.call('completeSetup', { code: gw.setupCode(), password: ADMIN_PASSWORD });
  const sessionCookie = login.headers.getSetCookie().find((line) => line.startsWith('fieldgate_session='));
  assert.ok(sessionCookie);
  assert.match(sessionCookie, /HttpOnly/i);
  assert.match(sessionCookie, /SameSite=Strict/i);
  assert.match(sessionCookie, /Path=\//);
  assert.doesNotMatch(sessionCookie, /Secure/i, 'no Secure flag over plain HTTP on loopback');
  const stolen = anonymous.cookies.get('fieldgate_session')!;
  assert.equal((await anonymous.call('logout')).status, 200);
  const replay = new BrowserClient(gw.url);
  replay.cookies.set('fieldgate_session', stolen);
  assert.equal((await replay.call('status')).status, 401);
});

test('wrong role → 403: a technician may view but not manage users or config', async (t) => {
  const gw = await startGateway(t);
  const admin = await setUpAdmin(gw);
  const added = await admin.call('addUser', { username: 'tech', role: 'technician', password: 'solder flux and a multimeter' });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  const tech = new BrowserClient(gw.url);
  await tech.open();
  assert.equal((await tech.call('login', { username: 'tech', password: 'solder flux and a multimeter' })).status, 200);
  assert.equal((await tech.call('status')).status, 200);
  for (const answer of [await tech.call('users'), await tech.call('config'), await tech.call('addUser', { username: 'x2', role: 'admin', password: 'a long enough passphrase' })]) {
    assert.equal(answer.status, 403);
    assert.equal((answer.body as { error: string }).error, 'forbidden');
  }
});

test('wrong Origin or missing CSRF token → 403 on state-changing calls', async (t) => {
  const gw = await startGateway(t);
  const admin = await setUpAdmin(gw);
  const payload = { username: 'tech', role: 'technician' as const, password: 'solder flux and a multimeter' };
  const noCsrf = await admin.call('addUser', payload, { csrf: false });
  assert.equal(noCsrf.status, 403);
  assert.match((noCsrf.body as { message: string }).message, /CSRF/);
  const evil = await admin.call('addUser', payload, { headers: { origin: 'http://attacker.example' } });
  assert.equal(evil.status, 403);
  assert.match((evil.body as { message: string }).message, /Origin/);
  const wrongToken = await admin.call('addUser', payload, { headers: { 'x-fieldgate-csrf': 'forged' } });
  assert.equal(wrongToken.status, 403);
  assert.equal((await admin.call('users')).status, 200);
  assert.deepEqual(((await admin.call('users')).body as { users: { username: string }[] }).users.map((u) => u.username), ['admin']);
  const loginWithoutCsrf = new BrowserClient(gw.url);
  assert.equal((await loginWithoutCsrf.call('login', { username: 'admin', password: ADMIN_PASSWORD })).status, 403, 'login needs the double-submit token too');
});

function rawGet(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/api/status`, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

test('a Host the gateway does not serve → 421 (DNS rebinding)', async (t) => {
  const gw = await startGateway(t);
  const port = new URL(gw.url).port;
  assert.equal(await rawGet(gw.url, 'attacker.example'), 421);
  assert.equal(await rawGet(gw.url, `127.attacker.example:${port}`), 421);
  assert.equal(await rawGet(gw.url, `localhost:${port}`), 401);
  assert.equal(await rawGet(gw.url, `127.0.0.1:${port}`), 401);
});

test('brute force locks the account out, with a time to retry; the right password then still waits', async (t) => {
  const gw = await startGateway(t);
  await setUpAdmin(gw);
  const attacker = new BrowserClient(gw.url);
  await attacker.open();
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 6; attempt++) statuses.push((await attacker.call('login', { username: 'admin', password: `guess number ${attempt}` })).status);
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  const locked = await attacker.call('login', { username: 'admin', password: ADMIN_PASSWORD });
  assert.equal(locked.status, 429);
  const body = locked.body as { error: string; retryAfterSeconds: number };
  assert.equal(body.error, 'locked');
  assert.ok(body.retryAfterSeconds > 0);
  assert.equal(locked.headers.get('retry-after'), String(body.retryAfterSeconds));
  const admin = await new BrowserClient(gw.url);
  await admin.open();
  assert.equal((await admin.call('login', { username: 'admin', password: ADMIN_PASSWORD })).status, 429, 'the account itself is locked');
});

test('oversized and malformed bodies are refused and the gateway keeps serving', async (t) => {
  const gw = await startGateway(t);
  const admin = await setUpAdmin(gw);
  const huge = await admin.request('POST', '/api/login', { body: JSON.stringify({ username: 'admin', password: 'x'.repeat(100_000) }) });
  assert.equal(huge.status, 400);
  assert.match((huge.body as { error: string; message: string }).message, /larger than this method accepts/);
  const broken = await admin.request('POST', '/api/users/add', { body: '{"username": ' });
  assert.equal(broken.status, 400);
  assert.equal((broken.body as { error: string }).error, 'bad-request');
  const wrongShape = await admin.call('addUser', { username: 'Bad Name!', role: 'root' } as never);
  assert.equal(wrongShape.status, 400);
  const issues = (wrongShape.body as { issues: { path: string }[] }).issues.map((issue) => issue.path);
  assert.deepEqual(issues.sort(), ['password', 'role', 'username']);
  const notJson = await admin.request('POST', '/api/users/add', { body: 'username=x', headers: { 'content-type': 'text/plain' } });
  assert.equal(notJson.status, 400);
  const badQuery = await admin.request('GET', '/api/history?input=%7Bnot-json');
  assert.equal(badQuery.status, 400);
  assert.equal((await admin.call('status')).status, 200);
});

test('beyond loopback: HTTPS with a self-signed P-256 certificate and Secure cookies', async (t) => {
  const gw = await startGateway(t, { host: '0.0.0.0' });
  assert.match(gw.url, /^https:/);
  const fingerprint = gw.gateway.apiServer!.httpsFingerprint;
  assert.match(fingerprint ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const { X509Certificate } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  const cert = new X509Certificate(readFileSync(join(gw.dataDir, 'api', 'https-cert.pem')));
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(statSync(join(gw.dataDir, 'api', 'https-key.pem')).mode & 0o777, 0o600);
  const body = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
    import('node:https').then(({ request }) => {
      const port = new URL(gw.url).port;
      const req = request({ host: '127.0.0.1', port, path: '/api/setup', ca: cert.toString(), servername: undefined, checkServerIdentity: () => undefined, headers: { host: `127.0.0.1:${port}` } }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, cookie: String(response.headers['set-cookie'] ?? '') });
      });
      req.on('error', reject);
      req.end();
    }, reject);
  });
  assert.equal(body.status, 200);
  assert.match(body.cookie, /Secure/);
});

test('the bearer token of ui.tokenFile serves machine clients: metrics, status and calls without CSRF', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const token = 'f'.repeat(48);
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const gw = await startGateway(t, { tokenFile: join(dir, 'token') });
  const bearer = { authorization: `Bearer ${token}` };
  assert.equal((await fetch(`${gw.url}/metrics`)).status, 401, 'a token file makes metrics need it');
  assert.equal((await fetch(`${gw.url}/metrics`, { headers: bearer })).status, 200);
  assert.equal((await fetch(`${gw.url}/api/status`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await fetch(`${gw.url}/api/status`, { headers: bearer })).status, 200);
  const config = await fetch(`${gw.url}/api/config`, { headers: bearer });
  assert.equal(config.status, 200, 'the configured token acts as admin');
  const added = await fetch(`${gw.url}/api/users/add`, {
    method: 'POST',
    headers: { ...bearer, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'ops', role: 'admin', password: 'automation passphrase here' }),
  });
  assert.equal(added.status, 200);
  const crossSite = await fetch(`${gw.url}/api/users/remove`, {
    method: 'POST',
    headers: { ...bearer, 'content-type': 'application/json', origin: 'http://attacker.example' },
    body: JSON.stringify({ username: 'ops' }),
  });
  assert.equal(crossSite.status, 403, 'a foreign Origin is refused even with the token');
});

test('a token file that group or others can read stops the API from starting', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'token'), 'f'.repeat(48), { mode: 0o644 });
  const gw = await startGateway(t, { tokenFile: join(dir, 'token') });
  const api = gw.gateway.supervisor.report().find((component) => component.name === 'api');
  assert.equal(api?.state, 'failed');
  assert.match(api?.error ?? '', /ui\.tokenFile.*readable by group or others/);
});

test('a password change ends the user\'s other sessions; a reset ends all of them', async (t) => {
  const gw = await startGateway(t);
  const laptop = await setUpAdmin(gw);
  const phone = new BrowserClient(gw.url);
  await phone.open();
  assert.equal((await phone.call('login', { username: 'admin', password: ADMIN_PASSWORD })).status, 200);
  const wrongCurrent = await laptop.call('changePassword', { currentPassword: 'not it at all', newPassword: 'a brand new passphrase' });
  assert.equal(wrongCurrent.status, 403);
  const changed = await laptop.call('changePassword', { currentPassword: ADMIN_PASSWORD, newPassword: 'a brand new passphrase' });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal((await laptop.call('status')).status, 200, 'the session that changed it stays');
  assert.equal((await phone.call('status')).status, 401, 'the other session ended');
  assert.equal((await phone.call('login', { username: 'admin', password: ADMIN_PASSWORD })).status, 401);

  await laptop.call('addUser', { username: 'tech', role: 'technician', password: 'solder flux and a multimeter' });
  const tech = new BrowserClient(gw.url);
  await tech.open();
  await tech.call('login', { username: 'tech', password: 'solder flux and a multimeter' });
  assert.equal((await laptop.call('resetPassword', { username: 'tech', password: 'a reset passphrase now' })).status, 200);
  assert.equal((await tech.call('status')).status, 401);
  assert.equal((await laptop.call('removeUser', { username: 'admin' })).status, 409, 'you cannot remove yourself');
});

test('guessing many accounts from one address locks that address out too', async (t) => {
  const gw = await startGateway(t);
  await setUpAdmin(gw);
  const sprayer = new BrowserClient(gw.url);
  await sprayer.open();
  for (let attempt = 0; attempt < 5; attempt++) {
    assert.equal((await sprayer.call('login', { username: `user${attempt}`, password: 'winter2026 password' })).status, 401);
  }
  const locked = await sprayer.call('login', { username: 'admin', password: ADMIN_PASSWORD });
  assert.equal(locked.status, 429, 'the address is locked, whatever the account');
  // Metrics on loopback without ui.tokenFile need no session.
  const metrics = await new BrowserClient(gw.url).request('GET', '/metrics');
  assert.match(metrics.body as string, /fieldgate_api_auth_failures_total\{reason="unknown-user"\} 5/);
});
