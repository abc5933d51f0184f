import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const require = createRequire(import.meta.url);
/** electron-builder's own schema of its configuration, as shipped in app-builder-lib. */
const SCHEMA = require('app-builder-lib/scheme.json') as object;
interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  npmRebuild: boolean;
  linux: { target: { target: string; arch: string[] }[] };
  deb: { afterInstall: string; afterRemove: string };
}
const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

function validate(candidate: unknown) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const valid = ajv.validate(SCHEMA, candidate);
  return { valid, errors: ajv.errorsText(ajv.errors) };
}

test('electron-builder.yml is valid against electron-builder\'s own configuration schema', () => {
  const result = validate(config);
  assert.ok(result.valid, result.errors);
});

test('the schema check catches a mistake (an unknown key, a wrong type)', () => {
  assert.equal(validate({ ...config, kiosk: true }).valid, false);
  assert.equal(validate({ ...config, deb: { ...config.deb, afterInstall: 42 } }).valid, false);
});

test('AppImage and deb are built for x64, arm64 and armv7l, with native modules rebuilt and unpacked from the asar', () => {
  const targets = config.linux.target;
  for (const name of ['AppImage', 'deb']) assert.deepEqual(targets.find((t) => t.target === name)?.arch, ['x64', 'arm64', 'armv7l'], name);
  assert.equal(config.npmRebuild, true);
  assert.ok(config.asarUnpack.includes('**/*.node'));
  assert.ok(config.files.includes('native-config/ota/**'), 'the OTA trusted keys ship beside the code');
});

test('deb.afterInstall and afterRemove are the scripts package-deb.mjs writes, with the shared maintainer steps', () => {
  const out = mkdtempSync(join(tmpdir(), 'fieldgate-electron-scripts-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts/package-deb.mjs'), '--electron-scripts', out]);
    for (const [hook, step] of [['afterInstall', 'fieldgate_configure'], ['afterRemove', 'fieldgate_purge_state']] as const) {
      const script = join(out, basename(config.deb[hook]));
      assert.ok(existsSync(script), `${hook}: ${script}`);
      const text = readFileSync(script, 'utf8');
      assert.match(text, /^#!\/bin\/sh\n/);
      assert.match(text, new RegExp(`^${step}\\(\\) \\{`, 'm'), `${hook} carries the shared ${step}`);
      // electron-builder expands ${name} as its own macros and fails on unknown ones.
      assert.doesNotMatch(text, /\$\{[a-zA-Z]+\}/, hook);
      execFileSync('sh', ['-n', script]);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
