// `fieldgate config check` on the README's worked sensors.modbusTcp example (the README is a
// promise: the example must be valid as printed), and on a typo in it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../helpers/cli.js';

const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));

/** The first YAML block after the README heading `heading`. */
function exampleAfter(heading: string): string {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(heading);
  assert.ok(start >= 0, `README has "${heading}"`);
  const block = /```yaml\n([\s\S]*?)```/.exec(text.slice(start));
  assert.ok(block?.[1], `a yaml block after "${heading}"`);
  return block[1];
}

describe('config check on the README Modbus TCP example', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-modbus-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const check = async (yaml: string) => {
    const file = join(dir, 'fieldgate.yaml');
    writeFileSync(file, `gateway:\n  id: gw-1\n  dataDir: ${dir}\n${yaml}`);
    return runCli(['config', 'check', file]);
  };

  it('accepts the worked example as printed', async () => {
    const result = await check(exampleAfter('### Modbus TCP (`sensors.modbusTcp`)'));
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
  });

  it('names the key of a typo with a did-you-mean', async () => {
    const result = await check(exampleAfter('### Modbus TCP (`sensors.modbusTcp`)').replace('host:', 'hots:'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /"sensors\.modbusTcp\.0\.hots": unknown key; did you mean "host"\?/);
  });
});
