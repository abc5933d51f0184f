import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';

test('run starts components in order and stops cleanly in reverse on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-lifecycle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fieldgate.yaml');
  const uiPort = await freePort();
  writeFileSync(
    file,
    [
      'gateway: { id: gw-lifecycle, dataDir: data }',
      'sensors:',
      '  sim:',
      '    - { id: t1, rate: 50 }',
      `ui: { port: ${uiPort} }`,
      '',
    ].join('\n'),
  );
  const gateway = new CliProcess(['run', '--config', file]);
  t.after(() => gateway.kill());
  await gateway.waitForLine('"msg":"gateway running"');
  const started = gateway.records().filter((r) => r.msg === 'component started').map((r) => r.component);

  const status = await runCli(['status', '--config', file]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^gateway gw-lifecycle /);
  assert.match(status.stdout, /^  t1 +sim +online /m);

  const metrics = await (await fetch(`http://127.0.0.1:${uiPort}/metrics`)).text();
  assert.match(metrics, /^fieldgate_sensor_value\{sensor="t1",quantity="temperature",unit="°C"\} \d+(\.\d+)?$/m);
  assert.match(metrics, /^fieldgate_sensor_online\{sensor="t1",source="sim"\} 1$/m);
  assert.match(metrics, /^fieldgate_buffer_appended_total \d+/m);

  gateway.child.kill('SIGTERM');
  const exit = await gateway.exit();
  assert.deepEqual(exit, { code: 0, signal: null });
  const stopped = gateway.records().filter((r) => r.msg === 'component stopped').map((r) => r.component);
  assert.ok(started.length >= 2, `expected several components, got ${started.join(', ')}`);
  assert.deepEqual(stopped, [...started].reverse());
  assert.ok(gateway.records().some((r) => r.msg === 'stopped' && r.ns === 'service'));
});

test('status explains when no gateway is running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, `gateway: { id: gw-idle, dataDir: data }\nui: { port: ${await freePort()} }\n`);
  const result = await runCli(['status', '--config', file]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^fieldgate: no gateway answers at http:\/\/127\.0\.0\.1:\d+\/api\/status: is the service running\?/);
});
