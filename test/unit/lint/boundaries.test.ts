import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

async function ruleViolations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('only main/electron may import electron', async () => {
  const code = "import { app } from 'electron';\nexport const name = app.name;\n";
  assert.match((await ruleViolations('main/uplink/x.ts', code))[0] ?? '', /Only main\/electron\/\*\* may import electron/);
  assert.deepEqual(await ruleViolations('main/electron/x.ts', code), []);
});

test('main/shared may not import node: modules', async () => {
  const code = "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n";
  assert.match((await ruleViolations('main/shared/x.ts', code))[0] ?? '', /main\/shared is platform-free/);
  assert.deepEqual(await ruleViolations('main/config/x.ts', code), []);
});

test('sources and the uplink never import each other', async () => {
  assert.match(
    (await ruleViolations('main/sensors/serial/x.ts', "import { Uplink } from '../../uplink/uplink.js';\nexport const u = Uplink;\n"))[0] ?? '',
    /meet only at the buffer/,
  );
  assert.match(
    (await ruleViolations('main/uplink/x.ts', "import { SimSource } from '../sensors/sim/sim-source.js';\nexport const s = SimSource;\n"))[0] ?? '',
    /meet only at the buffer/,
  );
});
