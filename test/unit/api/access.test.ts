import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoginThrottle } from '../../../main/api/login-throttle.js';
import { checkNewPassword, hashPassword, verifyPassword } from '../../../main/api/passwords.js';
import { hostnameOf, hostServed, originMatches, servedHostnames } from '../../../main/api/request-checks.js';
import { SessionStore } from '../../../main/api/sessions.js';
import { SETUP_CODE_ALPHABET, SETUP_CODE_LIFETIME_MS, SetupCode } from '../../../main/api/setup-code.js';
import { readTokenFile } from '../../../main/api/token.js';
import { ApiError } from '../../../main/shared/api.js';
import { isIpLiteral, isLoopbackHost } from '../../../main/shared/config/gateway.js';

function tempDir(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-access-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('loopback means 127.0.0.0/8 or ::1 as literals; names never count', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['127.attacker.example', 'localhost', '0.0.0.0', '::', '10.0.0.1', '127.0.0.1.nip.io', '1270.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  for (const host of ['0.0.0.0', '192.168.1.20', '::', 'fe80::1']) assert.equal(isIpLiteral(host), true, host);
  for (const host of ['localhost', 'box.local', '256.0.0.1', '[::1]', '1.2.3']) assert.equal(isIpLiteral(host), false, host);
});

test('Host and Origin checks', () => {
  assert.equal(hostnameOf('box.local:8443'), 'box.local');
  assert.equal(hostnameOf('[::1]:8080'), '::1');
  assert.equal(hostnameOf('Example.COM.'), 'example.com');
  assert.equal(hostnameOf('a b'), undefined);
  const served = servedHostnames({ host: '127.0.0.1', serverNames: ['gw.example'] });
  assert.deepEqual([...served].sort(), ['127.0.0.1', '::1', 'gw.example', 'localhost']);
  assert.equal(hostServed('attacker.example', served), false);
  assert.equal(hostServed('127.attacker.example', served), false);
  assert.equal(hostServed('gw.example', served), true);
  assert.equal(hostServed('10.0.0.7', served), true, 'an IP literal cannot come from DNS rebinding');
  assert.equal(hostServed(undefined, served), false);
  assert.equal(originMatches('http://127.0.0.1:8080', '127.0.0.1:8080', 'http'), true);
  assert.equal(originMatches('http://127.0.0.1:8081', '127.0.0.1:8080', 'http'), false);
  assert.equal(originMatches('https://127.0.0.1:8080', '127.0.0.1:8080', 'http'), false);
  assert.equal(originMatches('null', '127.0.0.1:8080', 'http'), false);
  assert.equal(originMatches(undefined, '127.0.0.1:8080', 'http'), false);
});

test('the setup code: no look-alikes, 12 characters, once, expires after 24 h', (t) => {
  let now = 1_000_000;
  const codes = new SetupCode({ dir: tempDir(t), now: () => now });
  assert.doesNotMatch(SETUP_CODE_ALPHABET, /[01OIL]/);
  const issued = codes.issue();
  assert.equal(issued.code.replace(/-/g, '').length, 12);
  assert.equal(codes.consume('WRONG-WRONG-WRONG'), false);
  now += SETUP_CODE_LIFETIME_MS;
  assert.equal(codes.consume(issued.code), false, 'expired');
  const fresh = codes.issue();
  assert.notEqual(fresh.code, issued.code);
  assert.equal(codes.consume(fresh.code.replace(/-/g, ' ').toLowerCase()), true);
  assert.equal(codes.consume(fresh.code), false, 'used');
});

test('login throttling: free attempts, then lockouts that double, reported in seconds', () => {
  let now = 0;
  const throttle = new LoginThrottle({ now: () => now, policy: { freeFailures: 3, baseLockMs: 1000, maxLockMs: 8000, forgetAfterMs: 60_000 } });
  const keys = ['user:admin'];
  const waits: number[] = [];
  for (let failure = 0; failure < 7; failure++) {
    throttle.assertAllowed(keys);
    throttle.fail(keys);
    try {
      throttle.assertAllowed(keys);
      waits.push(0);
    } catch (error) {
      assert.ok(error instanceof ApiError && error.kind === 'locked');
      const seconds = error.details.retryAfterSeconds ?? -1;
      waits.push(seconds);
      now += seconds * 1000;
    }
  }
  assert.deepEqual(waits, [0, 0, 1, 2, 4, 8, 8]);
  throttle.succeed(keys);
  throttle.assertAllowed(keys);
});

test('sessions end after the idle time, after the absolute time, and on logout', () => {
  let now = 0;
  const sessions = new SessionStore({ limits: { idleMs: 15 * 60_000, absoluteMs: 12 * 3_600_000 }, now: () => now });
  const idle = sessions.create('a', 'admin');
  now = 14 * 60_000;
  assert.ok(sessions.use(idle.id));
  now += 15 * 60_000;
  assert.equal(sessions.use(idle.id), undefined, 'idle expiry');
  const busy = sessions.create('b', 'technician');
  const started = now;
  while (now < started + 12 * 3_600_000 - 60_000) {
    now += 10 * 60_000;
    if (now < started + 12 * 3_600_000) assert.ok(sessions.use(busy.id));
  }
  now = started + 12 * 3_600_000;
  assert.equal(sessions.use(busy.id), undefined, 'absolute expiry, however busy');
  const one = sessions.create('c', 'admin');
  const two = sessions.create('c', 'admin');
  sessions.endAllOf('c', one.id);
  assert.ok(sessions.use(one.id));
  assert.equal(sessions.use(two.id), undefined);
  assert.equal(sessions.info(one).csrfToken, one.csrfToken);
});

test('passwords: scrypt hashes that verify, and the policy refuses weak ones', async () => {
  const hash = await hashPassword('correct horse battery staple');
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
  for (const weak of ['short', 'password1234', 'PASSWORD1234', 'aaaaaaaaaaaaaaaa', 'technician-alice-1']) {
    assert.throws(() => checkNewPassword(weak, 'technician-alice'), (error: unknown) => error instanceof ApiError && error.details.field === 'password', weak);
  }
  checkNewPassword('correct horse battery staple', 'admin');
});

test('a token file that group or others can read is refused, naming the fix', (t) => {
  const file = join(tempDir(t), 'token');
  writeFileSync(file, 'a'.repeat(40), { mode: 0o640 });
  assert.throws(() => readTokenFile(file), /"ui\.tokenFile": .* is readable by group or others \(mode 0640\); refusing it\. Fix: chmod 600/);
  chmodSync(file, 0o600);
  assert.equal(readTokenFile(file), 'a'.repeat(40));
});

test('a restart makes a new setup code and the old one stops working', async (t) => {
  const dir = tempDir(t);
  const { Auth } = await import('../../../main/api/auth.js');
  const { createMetricsRegistry } = await import('../../../main/metrics/registry.js');
  const { silentLogger } = await import('../../../main/log/logger.js');
  const { readSetupCode } = await import('../../../main/api/setup-code.js');
  const make = () => new Auth({ dir, limits: { idleMs: 60_000, absoluteMs: 3_600_000 }, metrics: createMetricsRegistry({ processMetrics: false }), log: silentLogger, now: () => Date.now() });
  const before = make();
  before.start();
  const first = readSetupCode(dir, Date.now())!.code;
  const after = make();
  after.start();
  const second = readSetupCode(dir, Date.now())!.code;
  assert.notEqual(first, second);
  const input = { username: 'admin', password: 'correct horse battery staple' };
  await assert.rejects(after.completeSetup({ ...input, code: first }, '127.0.0.1'), (error: unknown) => error instanceof ApiError && error.kind === 'forbidden');
  const session = await after.completeSetup({ ...input, code: second }, '127.0.0.1');
  assert.equal(session.role, 'admin');
  const third = make();
  third.start();
  assert.equal(readSetupCode(dir, Date.now()), undefined, 'no code once an admin exists');
});

test('a damaged account file stops the start with a message naming the file and the fix', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'accounts.json'), '{"users": [{"username": 1}]}', { mode: 0o600 });
  const { AccountStore } = await import('../../../main/api/accounts.js');
  assert.throws(() => new AccountStore({ dir, now: () => 0 }), /the UI account file .*accounts\.json is unreadable or damaged .* delete it to get a new setup code/);
});
