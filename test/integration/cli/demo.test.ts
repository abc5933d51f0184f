import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliProcess } from '../../helpers/cli.js';

interface DemoStatus {
  uplink: { state: string; readingsSent: number } | null;
  buffer: { depth: number };
}

test('the demo runs end to end: local CA, mutual-TLS broker, sim sensors, readings delivered', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-demo-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const demo = new CliProcess(['demo', '--data-dir', dataDir, '--ui-port', '0']);
  t.after(() => demo.kill());
  const banner = await demo.waitForLine('setup UI and status: http://');
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
  assert.ok(url, banner);
  const setupLine = await demo.waitForLine('first run: setup code ');
  assert.match(setupLine, /setup code [2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4} /);
  // The API needs a session or a token: the status token is what `fieldgate status` uses.
  const token = readFileSync(join(dataDir, 'api', 'status-token'), 'utf8').trim();

  let status: DemoStatus | undefined;
  for (let attempt = 0; attempt < 60; attempt++) {
    status = (await (await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as DemoStatus;
    if ((status.uplink?.readingsSent ?? 0) > 0) break;
    await sleep(500);
  }
  assert.equal(status?.uplink?.state, 'connected');
  assert.ok((status?.uplink?.readingsSent ?? 0) > 0, JSON.stringify(status));
  for (const key of ['pki/device.key', 'pki/broker.key']) {
    assert.equal(statSync(join(dataDir, key)).mode & 0o777, 0o600, key);
  }

  demo.child.kill('SIGINT');
  assert.deepEqual(await demo.exit(), { code: 0, signal: null });
});
