import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcess } from '../../helpers/cli.js';

test('run starts components in order and stops cleanly in reverse on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-lifecycle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(
    file,
    [
      'gateway: { id: gw-lifecycle, dataDir: data }',
      'sensors:',
      '  sim:',
      '    - { id: t1, rate: 50 }',
      'ui: { port: 0 }',
      '',
    ].join('\n'),
  );
  const gateway = new CliProcess(['run', '--config', file]);
  t.after(() => gateway.kill());
  await gateway.waitForLine('"msg":"gateway running"');
  const started = gateway.records().filter((r) => r.msg === 'component started').map((r) => r.component);

  gateway.child.kill('SIGTERM');
  const exit = await gateway.exit();
  assert.deepEqual(exit, { code: 0, signal: null });
  const stopped = gateway.records().filter((r) => r.msg === 'component stopped').map((r) => r.component);
  assert.ok(started.length >= 2, `expected several components, got ${started.join(', ')}`);
  assert.deepEqual(stopped, [...started].reverse());
  assert.ok(gateway.records().some((r) => r.msg === 'stopped' && r.ns === 'service'));
});
