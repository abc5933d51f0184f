import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';

async function runGateway(t: import('node:test').TestContext, ui: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-status-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fieldgate.yaml');
  const port = await freePort();
  writeFileSync(file, ['gateway: { id: gw-status, dataDir: data }', 'sensors:', '  sim:', '    - { id: t1, rate: 5 }', `ui: { port: ${port}${ui} }`, ''].join('\n'));
  const gateway = new CliProcess(['run', '--config', file]);
  t.after(() => gateway.kill());
  await gateway.waitForLine('"msg":"gateway running"');
  return { gateway, file, port };
}

test('the setup code is in the journal and in `fieldgate status`, and works in the UI once', async (t) => {
  const { gateway, file, port } = await runGateway(t, '');
  const logged = gateway.records().find((record) => typeof record.setupCode === 'string');
  assert.ok(logged, 'the setup code is logged');
  const code = String(logged.setupCode);
  assert.match(String(logged.msg), new RegExp(`setup code ${code}`));
  const status = await runCli(['status', '--config', file]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^setup code: +${code} \\(no admin account yet`, 'm'));
  assert.match(status.stdout, /^alerts: (none active|\d+ active)$/m);
  const json = JSON.parse((await runCli(['status', '--config', file, '--json'])).stdout) as { setupCode: { code: string }; httpsFingerprint: null; alerts: unknown[] };
  assert.ok(Array.isArray(json.alerts), 'the JSON has the active alerts');
  assert.equal(json.setupCode.code, code);
  assert.equal(json.httpsFingerprint, null);

  const base = `http://127.0.0.1:${port}`;
  const first = await fetch(`${base}/api/setup`);
  const csrf = /fieldgate_csrf=([^;]+)/.exec(first.headers.get('set-cookie') ?? '')?.[1] ?? '';
  const done = await fetch(`${base}/api/setup`, {
    method: 'POST',
    headers: { origin: base, 'content-type': 'application/json', 'x-fieldgate-csrf': csrf, cookie: `fieldgate_csrf=${csrf}` },
    body: JSON.stringify({ code, password: 'correct horse battery staple' }),
  });
  assert.equal(done.status, 200);
  const after = await runCli(['status', '--config', file]);
  assert.doesNotMatch(after.stdout, /setup code/);
  assert.ok(!gateway.records().some((record) => JSON.stringify(record).includes('correct horse')), 'passwords are never logged');
});

test('beyond loopback `fieldgate status` shows the HTTPS fingerprint and talks HTTPS pinned to it', async (t) => {
  const { file } = await runGateway(t, ', host: 0.0.0.0');
  const status = await runCli(['status', '--config', file]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^https: +SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
  assert.match(status.stdout, /^ {2}t1 +sim /m);
});
