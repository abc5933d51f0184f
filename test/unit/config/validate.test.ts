import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../main/config/validate.js';
import { applyEnvOverrides, parseConfigText } from '../../../main/config/load.js';
import { configJsonSchema } from '../../../main/shared/config/schema.js';
import { ConfigError } from '../../../main/shared/errors.js';

const minimal = { gateway: { id: 'gw-1', dataDir: '/var/lib/fieldgate' } };

function problemsOf(document: unknown): string[] {
  try {
    validateConfig(document);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('a minimal config is valid and secure defaults apply', () => {
  const config = validateConfig(minimal);
  assert.equal(config.ui.host, '127.0.0.1');
  assert.equal(config.buffer.synchronous, 'full');
  assert.equal(config.cloud, undefined);
  assert.deepEqual(config.sensors.sim, []);
});

test('an unknown key is an error with a did-you-mean naming the full path', () => {
  const problems = problemsOf({ ...minimal, gateway: { ...minimal.gateway, dataDri: '/x' } });
  assert.deepEqual(problems, ['"gateway.dataDri": unknown key; did you mean "dataDir"?']);
});

test('an unknown top-level key far from any known one lists the allowed keys', () => {
  const [problem] = problemsOf({ ...minimal, zzzzzzzz: 1 });
  assert.match(problem ?? '', /^"zzzzzzzz": unknown key; allowed keys: gateway, log, buffer, cloud, .*sensors.*ui/);
});

test('an unknown key inside an array item is found too', () => {
  const problems = problemsOf({ ...minimal, sensors: { sim: [{ id: 's1', rat: 2 }] } });
  assert.deepEqual(problems, ['"sensors.sim.0.rat": unknown key; did you mean "rate"?']);
});

test('a wrong type names the key, the bad value and what is allowed', () => {
  const [problem] = problemsOf({ ...minimal, ui: { port: 'eighty' } });
  assert.match(problem ?? '', /^"ui\.port": .*number.*, got "eighty"$/);
});

test('a missing required key says it is required', () => {
  assert.deepEqual(problemsOf({ gateway: { dataDir: '/x' } }), ['"gateway.id": required, expected string']);
});

test('every problem is reported at once', () => {
  const problems = problemsOf({ gateway: { id: 'bad id with spaces' }, ui: { port: 70000 } });
  assert.equal(problems.length, 3);
});

test('plaintext MQTT is refused unless explicitly allowed', () => {
  const [problem] = problemsOf({ ...minimal, cloud: { url: 'mqtt://broker:1883' } });
  assert.match(problem ?? '', /^"cloud\.url": plaintext MQTT is refused.*allowInsecure: true, got "mqtt:\/\/broker:1883"$/);
  const config = validateConfig({ ...minimal, cloud: { url: 'mqtt://broker:1883', allowInsecure: true } });
  assert.equal(config.cloud?.allowInsecure, true);
});

test('mutual TLS needs the CA, and the certificate and key together or neither (on-box identity)', () => {
  assert.deepEqual(problemsOf({ ...minimal, cloud: { url: 'mqtts://broker:8883' } }).map((p) => p.split(':')[0]), ['"cloud.caFile"']);
  const [problem] = problemsOf({ ...minimal, cloud: { url: 'mqtts://broker:8883', caFile: 'ca.pem', certFile: 'c.pem' } });
  assert.match(problem ?? '', /^"cloud\.keyFile": cloud\.keyFile is needed with cloud\.certFile; omit both to use the on-box identity/);
  const onBox = validateConfig({ ...minimal, cloud: { url: 'mqtts://broker:8883', caFile: 'ca.pem' } });
  assert.equal(onBox.cloud?.certFile, undefined);
});

test('the UI beyond loopback is HTTPS only, and ui.host takes IP literals only', () => {
  const [plain] = problemsOf({ ...minimal, ui: { host: '0.0.0.0', https: false } });
  assert.match(plain ?? '', /^"ui\.https": ui\.host "0\.0\.0\.0" is reachable from the network: plain HTTP is refused/);
  assert.equal(validateConfig({ ...minimal, ui: { host: '0.0.0.0' } }).ui.host, '0.0.0.0');
  for (const host of ['127.attacker.example', 'localhost', 'box.local']) {
    const [problem] = problemsOf({ ...minimal, ui: { host } });
    assert.match(problem ?? '', /^"ui\.host": expected an IP address literal/, host);
  }
});

test('environment overrides set nested keys with YAML scalar types', () => {
  const document = applyEnvOverrides(structuredClone(minimal), {
    FIELDGATE__UI__PORT: '9090',
    FIELDGATE__GATEWAY__DATA_DIR: '/srv/fg',
    UNRELATED: 'x',
  });
  const config = validateConfig(document);
  assert.equal(config.ui.port, 9090);
  assert.equal(config.gateway.dataDir, '/srv/fg');
});

test('invalid YAML and duplicate keys are config errors', () => {
  assert.throws(() => parseConfigText('gateway: [unclosed', 'x.yaml'), (e: unknown) => e instanceof ConfigError && /x\.yaml: invalid YAML/.test(e.message));
  assert.throws(() => parseConfigText('a: 1\na: 2\n', 'y.yaml'), ConfigError);
});

test('the JSON Schema export describes the sections for the UI', () => {
  const schema = configJsonSchema() as { properties: Record<string, unknown>; required: string[] };
  assert.deepEqual(schema.required, ['gateway']);
  assert.ok('cloud' in schema.properties && 'sensors' in schema.properties);
});
