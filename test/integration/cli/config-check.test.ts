import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../helpers/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../../../native-config/fieldgate.example.yaml', import.meta.url));

function tempConfig(text: string): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-config-'));
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, text);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('config check accepts the shipped example config', async () => {
  const result = await runCli(['config', 'check', EXAMPLE]);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0);
  assert.match(result.stdout, /OK \(gateway "/);
});

test('config check exits non-zero on an unknown key and suggests the right one', async () => {
  const { file, cleanup } = tempConfig('gateway:\n  id: gw-1\n  dataDir: /tmp/x\nui:\n  prot: 8080\n');
  try {
    const result = await runCli(['config', 'check', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /"ui\.prot": unknown key; did you mean "port"\?/);
  } finally {
    cleanup();
  }
});

test('config check exits non-zero on a wrong type with the key and the value', async () => {
  const { file, cleanup } = tempConfig('gateway:\n  id: gw-1\n  dataDir: /tmp/x\nbuffer:\n  maxRows: lots\n');
  try {
    const result = await runCli(['config', 'check', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /"buffer\.maxRows": .*, got "lots"/);
  } finally {
    cleanup();
  }
});

test('config check on a missing file says so and how to start', async () => {
  const result = await runCli(['config', 'check', '/nonexistent/fieldgate.yaml']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /config file "\/nonexistent\/fieldgate\.yaml": file not found; create one from native-config\/fieldgate\.example\.yaml/);
});

test('run refuses an invalid config before starting anything', async () => {
  const { file, cleanup } = tempConfig('gateway:\n  id: gw-1\n  dataDir: /tmp/x\ncloud:\n  url: mqtt://broker:1883\n');
  try {
    const result = await runCli(['run', '--config', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /"cloud\.url": plaintext MQTT is refused/);
  } finally {
    cleanup();
  }
});

test('an unknown subcommand fails with a suggestion', async () => {
  const result = await runCli(['confg']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /Did you mean config\?/);
});

test('config check without a file reads $FIELDGATE_CONFIG, else the service config in the state directory', async () => {
  const viaEnv = await runCli(['config', 'check'], { FIELDGATE_CONFIG: EXAMPLE });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.match(viaEnv.stdout, /^.*fieldgate\.example\.yaml: OK/);
  const byDefault = await runCli(['config', 'check'], { FIELDGATE_CONFIG: '' });
  assert.notEqual(byDefault.code, 0);
  assert.match(byDefault.stderr, /"\/var\/lib\/fieldgate\/config\/fieldgate\.yaml"/);
});
