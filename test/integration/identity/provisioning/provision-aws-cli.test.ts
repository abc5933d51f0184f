import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../helpers/cli.js';
import { createPki, type IssuedCert, type Pki } from '../../../helpers/pki.js';

// What `fieldgate identity provision-aws` refuses before it connects anywhere.

let pki: Pki;
let claim: IssuedCert;
let root: string;

before(async () => {
  pki = await createPki();
  claim = await pki.issueClientCert({ cn: 'fleet-claim' });
  root = mkdtempSync(join(tmpdir(), 'fieldgate-provision-cli-'));
});

after(async () => {
  rmSync(root, { recursive: true, force: true });
  await pki?.cleanup();
});

function configFile(name: string, cloud: Record<string, unknown>): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, JSON.stringify({ gateway: { id: 'gw-7', dataDir: join(root, name) }, ui: { enabled: false }, cloud: { caFile: pki.ca.certPath, ...cloud } }));
  return file;
}

const aws = { profile: 'aws-iot-core', url: 'mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:8883' };
const provision = (config: string, ...extra: string[]) =>
  runCli(['identity', 'provision-aws', '--config', config, '--claim-cert', claim.certPath, '--claim-key', claim.keyPath, '--template', 'fieldgate-fleet', ...extra]);

test('another cloud profile is refused with what to set', async () => {
  const result = await provision(configFile('generic', { url: 'mqtts://broker.example.com:8883' }));
  assert.equal(result.code, 1);
  assert.match(result.stderr, /fleet provisioning needs cloud\.profile: aws-iot-core/);
  assert.equal(existsSync(join(root, 'generic', 'identity')), false, 'no key made');
});

test('a claim key others can read is refused with the chmod, and no key is made', async () => {
  chmodSync(claim.keyPath, 0o644);
  try {
    const result = await provision(configFile('loose', aws));
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`Fix: chmod 600 ${claim.keyPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal(existsSync(join(root, 'loose', 'identity')), false);
  } finally {
    chmodSync(claim.keyPath, 0o600);
  }
});

test('a claim file that is not there is named', async () => {
  const result = await runCli(['identity', 'provision-aws', '--config', configFile('missing', aws), '--claim-cert', claim.certPath, '--claim-key', join(root, 'nope.key'), '--template', 'fieldgate-fleet']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /cannot read the claim key ".*nope\.key": file not found/);
});

test('bad flags name the flag', async () => {
  const config = configFile('flags', aws);
  assert.match((await provision(config, '--parameter', 'SerialNumber')).stderr, /"--parameter": expected KEY=VALUE/);
  assert.match((await provision(config, '--timeout-seconds', '0')).stderr, /"--timeout-seconds": expected a number of seconds > 0/);
  const template = await runCli(['identity', 'provision-aws', '--config', config, '--claim-cert', claim.certPath, '--claim-key', claim.keyPath, '--template', 'a/#']);
  assert.match(template.stderr, /"--template": AWS IoT provisioning template names have 1 to 36 letters/);
});
