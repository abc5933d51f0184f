// Security hygiene: one full gateway run with every kind of secret in play (mTLS key to a real
// Mosquitto, HTTPS key, a BLE bind key, the ui token file, the setup code, passwords over the API)
// and then every log line, CLI output, API response and MQTT message is searched for each secret.
// The setup code may appear only where it is meant to be shown: the log line announcing it (in the
// journal, and the same line in the log API) and `fieldgate status` while there is no admin.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiDataDir } from '../../../main/config/location.js';
import { STATUS_TOKEN_FILE } from '../../../main/api/auth.js';
import { CSRF_COOKIE, CSRF_HEADER, httpRoute, type MethodName } from '../../../main/shared/api.js';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { freePort } from '../../helpers/net.js';
import { createPki } from '../../helpers/pki.js';
import { VECTORS } from '../../fixtures/ble/bthome-seal.js';
import { cloudSubscriber, waitFor } from '../uplink/fixture.js';

const ADMIN_PASSWORD = `boss-${randomBytes(9).toString('base64url')}`;
const TECH_PASSWORD = `field-${randomBytes(9).toString('base64url')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(9).toString('base64url')}`;
const TOKEN = randomBytes(32).toString('hex');

/** The body lines of a PEM block: any one of them in an output is a leak. */
function pemBodyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

interface Answer {
  status: number;
  text: string;
  setCookies: string[];
}

/** HTTPS to the gateway's own certificate (issued by the test CA, which this client trusts). */
function call(base: URL, ca: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(new URL(path, base), { method, ca, headers: { ...headers, ...(payload !== undefined && { 'content-type': 'application/json' }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, setCookies: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('no secret appears in any log line, CLI output, API response or MQTT message of a full run', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await createPki();
  t.after(() => pki.cleanup());
  const broker = await startMosquitto({ pki });
  t.after(() => broker.cleanup());
  const cloud = await cloudSubscriber(broker, pki);
  t.after(() => cloud.close());
  const client = await pki.issueClientCert({ cn: 'gw-sec' });
  const https = await pki.issueServerCert();
  const port = await freePort();
  const tokenFile = join(dir, 'ui.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const keyFile = join(dir, 'freezer.key');
  writeFileSync(keyFile, `${VECTORS.bindKey}\n`, { mode: 0o600 });
  const config = join(dir, 'fieldgate.yaml');
  writeFileSync(
    config,
    [
      'gateway:',
      '  id: gw-sec',
      `  dataDir: ${join(dir, 'data')}`,
      'log:',
      '  level: debug',
      'cloud:',
      `  url: ${broker.url}`,
      `  caFile: ${pki.ca.certPath}`,
      `  certFile: ${client.certPath}`,
      `  keyFile: ${client.keyPath}`,
      '  statusIntervalMs: 500',
      'ui:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      '  https: true',
      `  certFile: ${https.certPath}`,
      `  keyFile: ${https.keyPath}`,
      `  tokenFile: ${tokenFile}`,
      'sensors:',
      '  sim: [{ id: sim-1, rate: 5 }]',
      '  ble: { adapter: hci0 }',
      '',
    ].join('\n'),
  );
  // No BlueZ here: the BLE source fails to start (and logs why) with the bind key loaded.
  const env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(dir, 'no-bus')}` };
  const outputs: { where: string; text: string }[] = [];
  const cli = async (args: string[]) => {
    const result = await runCli(args, env);
    outputs.push({ where: `fieldgate ${args.slice(0, 3).join(' ')}`, text: result.stdout + result.stderr });
    return result;
  };

  assert.equal((await cli(['ble', 'allowlist', 'add', '-c', config, '--mac', VECTORS.mac, '--id', 'freezer', '--key-file', keyFile, '--advert', `fcd2=${VECTORS.encrypted1}`])).code, 0);
  assert.equal((await cli(['config', 'check', config])).code, 0);

  const gateway = new CliProcess(['run', '--config', config], env);
  t.after(() => gateway.kill());
  const announcement = await gateway.waitForLine('setup code');
  const setupCode = /setup code ([A-Z0-9-]+)/.exec(announcement)?.[1];
  assert.ok(setupCode, announcement);
  const status = await cli(['status', '--config', config]);
  assert.ok(status.stdout.includes(setupCode), '`fieldgate status` shows the setup code while there is no admin');
  outputs.pop(); // the one output allowed to show the setup code

  const base = new URL(`https://127.0.0.1:${port}/`);
  const cookies = new Map<string, string>();
  const expectStatus = (answer: Answer, expected: number) => assert.equal(answer.status, expected, answer.text);
  const api = async (name: MethodName, input?: unknown, extra: Record<string, string> = {}) => {
    const { verb, url } = httpRoute(name);
    const headers: Record<string, string> = { ...extra };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (verb === 'POST') {
      headers.origin = base.origin;
      const csrf = cookies.get(CSRF_COOKIE);
      if (csrf) headers[CSRF_HEADER] = csrf;
    }
    const path = verb === 'GET' && input !== undefined ? `${url}?input=${encodeURIComponent(JSON.stringify(input))}` : url;
    const answer = await call(base, pki.ca.certPem, verb, path, headers, verb === 'POST' ? (input ?? {}) : undefined);
    for (const line of answer.setCookies) {
      const [pair] = line.split(';');
      const [key, ...value] = (pair ?? '').split('=');
      if (key) cookies.set(key.trim(), value.join('='));
    }
    outputs.push({ where: `API ${name} (${answer.status})`, text: answer.text });
    return answer;
  };

  await api('setupState');
  expectStatus(await api('completeSetup', { code: 'WRONG-CODE-XXXX', password: ADMIN_PASSWORD }), 403);
  expectStatus(await api('completeSetup', { code: setupCode, password: ADMIN_PASSWORD }), 200);
  expectStatus(await api('addUser', { username: 'tech', role: 'technician', password: TECH_PASSWORD }), 200);
  expectStatus(await api('logout'), 200);
  expectStatus(await api('login', { username: 'admin', password: WRONG_PASSWORD }), 401);
  expectStatus(await api('login', { username: 'admin', password: ADMIN_PASSWORD }), 200);
  for (const name of ['status', 'config', 'users', 'identity', 'values', 'about', 'session', 'alerts'] as const) await api(name);
  await api('logs', { level: 'debug' });
  expectStatus(await api('status', undefined, { authorization: `Bearer ${TOKEN}` }), 200);
  await api('status', undefined, { authorization: `Bearer ${WRONG_PASSWORD}` });
  await cli(['status', '--config', config]);
  await waitFor(() => cloud.messages.some((m) => m.topic.includes('/readings/')) || undefined, 'readings at the broker');

  gateway.child.kill('SIGTERM');
  await gateway.exit();
  await cli(['identity', 'show', '--config', config]);

  const statusToken = readFileSync(join(apiDataDir(join(dir, 'data')), STATUS_TOKEN_FILE), 'utf8').trim();
  const secrets: Record<string, string[]> = {
    'cloud client key': pemBodyLines(client.keyPem),
    'HTTPS key': pemBodyLines(https.keyPem),
    'CA key': pemBodyLines(readFileSync(pki.ca.keyPath, 'utf8')),
    'bind key': [VECTORS.bindKey, VECTORS.bindKey.toUpperCase()],
    'admin password': [ADMIN_PASSWORD],
    'technician password': [TECH_PASSWORD],
    'wrong password': [WRONG_PASSWORD],
    'ui token': [TOKEN],
    'status token': [statusToken],
    'setup code': [setupCode, setupCode.replace(/-/g, '')],
  };
  const logLines = gateway.lines.map((line, i) => ({ where: `gateway log line ${i + 1}`, text: line }));
  const announced = logLines.filter((line) => line.text.includes('setup code') && line.text.includes(setupCode));
  assert.equal(announced.length, 1, 'the setup code is announced once');
  // The log API serves the same ring of log lines: its copy of the announcement is the same line.
  const withoutAnnouncement = ({ where, text }: { where: string; text: string }) => {
    if (!where.startsWith('API logs')) return { where, text };
    const { entries } = JSON.parse(text) as { entries: { message: string }[] };
    return { where, text: JSON.stringify(entries.filter((entry) => !entry.message.includes(`setup code ${setupCode}`))) };
  };
  const searched = [
    ...logLines.filter((line) => !announced.includes(line)),
    ...outputs.map(withoutAnnouncement),
    ...cloud.messages.map((m) => ({ where: `MQTT ${m.topic}`, text: m.text })),
  ];
  assert.ok(searched.length > 50, `enough output to search (${searched.length} items)`);
  const leaks = Object.entries(secrets).flatMap(([kind, values]) =>
    searched.filter((item) => values.some((value) => value.length > 0 && item.text.includes(value))).map((item) => `${kind} in ${item.where}: ${item.text.slice(0, 200)}`),
  );
  assert.deepEqual(leaks, []);
});
