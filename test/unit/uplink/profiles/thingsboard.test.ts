import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeasedReading } from '../../../../main/buffer/types.js';
import { validateConfig } from '../../../../main/config/validate.js';
import { silentLogger } from '../../../../main/log/logger.js';
import { EXPOSED_KEY_EXIT_CODE, refuseExposedKeys } from '../../../../main/identity/preflight.js';
import { ConfigError, UserError } from '../../../../main/shared/errors.js';
import { ClientOptionsBuilder } from '../../../../main/uplink/client-options.js';
import { parseCommand } from '../../../../main/uplink/commands.js';
import { classifyConnack, UplinkError } from '../../../../main/uplink/errors.js';
import { createWire, profileLimits } from '../../../../main/uplink/profiles/index.js';
import { readAccessToken } from '../../../../main/uplink/profiles/thingsboard.js';
import type { CommandRequest, ControlRequest, PlatformWire } from '../../../../main/uplink/profiles/wire.js';

const gateway = { id: 'plant3-gw7', dataDir: '/var/lib/fieldgate' };
/** The README's worked configs: access token, and X.509 (the on-box identity). */
const tokenCloud = { profile: 'thingsboard', url: 'mqtts://thingsboard.example.com:8883', caFile: '/etc/fieldgate/thingsboard-ca.pem', accessTokenFile: '/etc/fieldgate/thingsboard.token' };
const x509Cloud = { profile: 'thingsboard', url: 'mqtts://thingsboard.example.com:8883', caFile: '/etc/fieldgate/thingsboard-ca.pem' };

function problemsOf(cloud: Record<string, unknown>): string[] {
  try {
    validateConfig({ gateway, cloud });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

function wireFor(cloud: Record<string, unknown> = x509Cloud): PlatformWire {
  const config = validateConfig({ gateway, cloud }).cloud;
  assert.ok(config);
  return createWire(config, gateway.id, silentLogger);
}

function reading(seq: number, ts: number, values: Record<string, number>): LeasedReading {
  const measured = Object.fromEntries(Object.entries(values).map(([quantity, value]) => [quantity, { value, unit: 'x' }]));
  return { id: seq, sensorId: 'Device A', seq, ts, values: measured, wire: '' };
}

const text = (payload: Buffer) => JSON.parse(payload.toString('utf8')) as unknown;

test('both worked configs are valid', () => {
  assert.equal(validateConfig({ gateway, cloud: tokenCloud }).cloud?.accessTokenFile, tokenCloud.accessTokenFile);
  assert.equal(validateConfig({ gateway, cloud: x509Cloud }).cloud?.profile, 'thingsboard');
});

test('config check names the key and the fix for each ThingsBoard rule a config breaks', () => {
  assert.deepEqual(problemsOf({ ...tokenCloud, profile: 'generic' }), [
    `"cloud.accessTokenFile": an access token is ThingsBoard's device credential: set cloud.profile: thingsboard, or remove cloud.accessTokenFile, got "${tokenCloud.accessTokenFile}"`,
  ]);
  assert.deepEqual(problemsOf({ ...x509Cloud, url: 'wss://thingsboard.example.com/mqtt' }), [
    `"cloud.url": ThingsBoard's MQTT transport does not serve MQTT over WebSockets: use mqtts://<your ThingsBoard host>:8883, got "wss://thingsboard.example.com/mqtt"`,
  ]);
  assert.deepEqual(problemsOf({ ...tokenCloud, certFile: '/c.pem', keyFile: '/k.pem' }), [
    '"cloud.certFile": with cloud.accessTokenFile no client certificate is presented (ThingsBoard authenticates a client that presents one by the certificate and ignores the token): remove cloud.certFile, or remove cloud.accessTokenFile to authenticate by X.509, got "/c.pem"',
    '"cloud.keyFile": with cloud.accessTokenFile no client certificate is presented (ThingsBoard authenticates a client that presents one by the certificate and ignores the token): remove cloud.keyFile, or remove cloud.accessTokenFile to authenticate by X.509, got "/k.pem"',
  ]);
  assert.deepEqual(problemsOf({ ...x509Cloud, topicPrefix: 'acme' }), [
    '"cloud.topicPrefix": ThingsBoard\'s topics are fixed (v1/gateway/…, v1/devices/me/…) and take no prefix: remove cloud.topicPrefix, got "acme"',
  ]);
  assert.deepEqual(problemsOf({ ...x509Cloud, batch: { maxBytes: 131_072 } }), [
    '"cloud.batch.maxBytes": ThingsBoard\'s MQTT transport takes messages up to 65536 bytes by default (NETTY_MAX_PAYLOAD_SIZE) and closes the connection for a larger one: set cloud.batch.maxBytes to 65536 or less, got 131072',
  ]);
});

test('limits: packets capped at the 65536-byte NETTY_MAX_PAYLOAD_SIZE default; a token means no client certificate', () => {
  assert.deepEqual(profileLimits({ profile: 'thingsboard', url: x509Cloud.url }), { tls: {}, maxPacketBytes: 65_536, cnIsIdentity: false });
  assert.deepEqual(profileLimits({ profile: 'thingsboard', url: tokenCloud.url, accessTokenFile: '/t' }), { tls: {}, maxPacketBytes: 65_536, cnIsIdentity: false, clientCertificate: false });
});

test('telemetry has the Gateway API shape of its documentation example, the seq as "_seq", on v1/gateway/telemetry', () => {
  const wire = wireFor();
  assert.equal(wire.readingsTopic('Device A'), 'v1/gateway/telemetry');
  // ThingsBoard's example: {"Device A":[{"ts":1483228800000,"values":{"temperature":42,"humidity":80}},{"ts":1483228801000,"values":{"temperature":43,"humidity":82}}]}
  const payload = wire.encodeReadings('Device A', [reading(7, 1483228800000, { temperature: 42, humidity: 80 }), reading(8, 1483228801000, { temperature: 43, humidity: 82 })]);
  assert.deepEqual(text(payload), {
    'plant3-gw7/Device A': [
      { ts: 1483228800000, values: { temperature: 42, humidity: 80, _seq: 7 } },
      { ts: 1483228801000, values: { temperature: 43, humidity: 82, _seq: 8 } },
    ],
  });
});

test('a sensor is connected as "<gateway.id>/<sensor>" of type fieldgate-sensor on v1/gateway/connect', () => {
  const message = wireFor().sensorOnline?.('t1');
  assert.deepEqual({ topic: message?.topic, payload: message && text(message.payload), retain: message?.retain }, {
    topic: 'v1/gateway/connect',
    payload: { device: 'plant3-gw7/t1', type: 'fieldgate-sensor' },
    retain: undefined,
  });
});

test('a graceful stop disconnects each connected sensor on v1/gateway/disconnect, as in the Gateway API example {"device":"Device A"}', () => {
  const messages = wireFor().farewell?.('1.0.0', ['t1', 't2']) ?? [];
  assert.deepEqual(messages.map((m) => ({ topic: m.topic, payload: text(m.payload) })), [
    { topic: 'v1/gateway/disconnect', payload: { device: 'plant3-gw7/t1' } },
    { topic: 'v1/gateway/disconnect', payload: { device: 'plant3-gw7/t2' } },
  ]);
});

test('status and offline are client attributes of the gateway device, never retained', () => {
  const wire = wireFor();
  const status = wire.status({ version: '1.2.3', bufferDepth: 5, alerts: { info: 0, warning: 1, critical: 0 }, now: Date.parse('2026-12-02T05:00:00Z') });
  assert.equal(status.topic, 'v1/devices/me/attributes');
  assert.deepEqual(text(status.payload), { online: true, version: '1.2.3', bufferDepth: 5, activeAlerts: { info: 0, warning: 1, critical: 0 }, statusAt: '2026-12-02T05:00:00.000Z' });
  const offline = wire.offline('1.2.3');
  assert.deepEqual({ topic: offline.topic, payload: text(offline.payload) }, { topic: 'v1/devices/me/attributes', payload: { online: false, version: '1.2.3' } });
  assert.ok(!status.retain && !offline.retain);
});

test('alerts and drop records are the gateway device\'s telemetry, at the time of the event', () => {
  const wire = wireFor();
  const alert = { type: 'buffer-alert', event: 'raise', key: 'buffer:disk-full', severity: 'critical', message: 'disk full', ts: '2026-12-02T05:00:00.000Z' };
  const sent = wire.alert(Buffer.from(JSON.stringify(alert)));
  assert.deepEqual({ topic: sent.topic, payload: text(sent.payload) }, { topic: 'v1/devices/me/telemetry', payload: { ts: Date.parse(alert.ts), values: { alert } } });
  const drop = { type: 'readings-dropped', gateway: 'plant3-gw7', sensor: 't1', reason: 'ttl', count: 3, firstSeq: 4, lastSeq: 6, ts: '2026-12-02T05:00:01.000Z' };
  assert.deepEqual(text(wire.alert(Buffer.from(JSON.stringify(drop))).payload), { ts: Date.parse(drop.ts), values: { readingsDropped: drop } });
});

test('server-side RPC to the gateway maps onto the command handler and is answered on v1/devices/me/rpc/response/<id>', () => {
  const wire = wireFor();
  assert.deepEqual(wire.subscriptions(), ['v1/devices/me/rpc/request/+', 'v1/gateway/rpc']);
  // The documentation's example request body.
  const example = wire.inbound('v1/devices/me/rpc/request/42', Buffer.from('{"method": "setTemperature", "params": {"value": 26}}'), {} as never) as CommandRequest;
  assert.equal(example.kind, 'command');
  assert.equal(example.name, 'setTemperature');
  assert.deepEqual(text(example.payload), { value: 26 });
  assert.equal(parseCommand(example.name, example.payload).ok, false, 'unknown commands are refused by the handler');
  const ping = wire.inbound('v1/devices/me/rpc/request/43', Buffer.from('{"method":"ping","params":{}}'), {} as never) as CommandRequest;
  assert.equal(parseCommand(ping.name, ping.payload).ok, true);
  const answer = ping.reply({ command: 'ping', ok: true, result: { version: '1' } });
  assert.deepEqual({ topic: answer.topic, payload: text(answer.payload) }, { topic: 'v1/devices/me/rpc/response/43', payload: { command: 'ping', ok: true, result: { version: '1' } } });
  const broken = wire.inbound('v1/devices/me/rpc/request/44', Buffer.from('not json'), {} as never) as CommandRequest;
  assert.match(broken.refused ?? '', /not JSON/);
  assert.equal(broken.reply({ command: '', ok: false }).topic, 'v1/devices/me/rpc/response/44');
  const stringParams = wire.inbound('v1/devices/me/rpc/request/45', Buffer.from('{"method":"ping","params":"x"}'), {} as never) as CommandRequest;
  assert.match(stringParams.refused ?? '', /params must be a JSON object/);
});

test('gateway RPC to a sensor device is run by the gateway and answered in the documented reply shape; other devices are refused', () => {
  const wire = wireFor();
  const request = wire.inbound('v1/gateway/rpc', Buffer.from('{"device":"plant3-gw7/t1","data":{"id":1,"method":"ping","params":{}}}'), {} as never) as CommandRequest;
  assert.equal(request.name, 'ping');
  assert.equal(request.refused, undefined);
  const answer = request.reply({ command: 'ping', ok: true });
  assert.deepEqual({ topic: answer.topic, payload: text(answer.payload) }, { topic: 'v1/gateway/rpc', payload: { device: 'plant3-gw7/t1', id: 1, data: { command: 'ping', ok: true } } });
  // The documentation's example, for a device this gateway does not serve.
  const foreign = wire.inbound('v1/gateway/rpc', Buffer.from('{ "device": "Device A", "data": {"id": 1, "method": "toggle_gpio", "params": {"pin": 1}}}'), {} as never) as CommandRequest;
  assert.match(foreign.refused ?? '', /RPC for device "Device A" refused: this gateway serves only "plant3-gw7\/<sensor>"/);
  // A reply on the shared topic (the documented {"device","id","data"}) is no request.
  assert.equal(wire.inbound('v1/gateway/rpc', Buffer.from('{"device":"plant3-gw7/t1","id":1,"data":{"success":true}}'), {} as never), undefined);
});

test('rotation: cert/csr goes out as the gateway\'s telemetry, cert/issued comes in as a one-way RPC with the message as params', () => {
  const wire = wireFor();
  assert.equal(wire.controlFilter('cert/issued'), undefined);
  const csr = wire.control('cert/csr', Buffer.from('{"requestId":"r1","csr":"-----BEGIN CERTIFICATE REQUEST-----"}'));
  assert.deepEqual({ topic: csr.topic, payload: text(csr.payload) }, { topic: 'v1/devices/me/telemetry', payload: { 'cert/csr': { requestId: 'r1', csr: '-----BEGIN CERTIFICATE REQUEST-----' } } });
  const issued = wire.inbound('v1/devices/me/rpc/request/9', Buffer.from('{"method":"cert/issued","params":{"requestId":"r1","certificate":"PEM"}}'), {} as never) as ControlRequest;
  assert.deepEqual({ kind: issued.kind, suffix: issued.suffix, payload: text(issued.payload) }, { kind: 'control', suffix: 'cert/issued', payload: { requestId: 'r1', certificate: 'PEM' } });
});

test('the access token file: read at every connect, trimmed; missing, empty or readable by others is bad-credentials naming the key, never the token', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-tb-token-'));
  try {
    const file = join(dir, 'token');
    const refusal = async (expected: RegExp) => {
      const error = await readAccessToken(file).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof UplinkError && error.kind === 'bad-credentials', String(error));
      assert.match(error.message, expected);
      assert.doesNotMatch(error.message, /A1b2C3/);
    };
    await refusal(/cannot read cloud\.accessTokenFile ".*token" \(ENOENT\)/);
    await writeFile(file, '\n', { mode: 0o600 });
    await refusal(/cloud\.accessTokenFile ".*token" is empty/);
    await writeFile(file, 'A1b2C3\n');
    await chmod(file, 0o640);
    await refusal(/is readable by group or others \(mode 0640\); refusing it\. Fix: chmod 600 /);
    await chmod(file, 0o600);
    const wire = wireFor({ ...tokenCloud, accessTokenFile: file });
    assert.deepEqual(await wire.connectOptions(), { clientId: 'plant3-gw7', username: 'A1b2C3' });
    await writeFile(file, 'D4e5F6');
    assert.equal((await wire.connectOptions()).username, 'D4e5F6', 'a replaced token is used at the next connect');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('with a token the MQTT options carry it as the user name, no password and no client certificate; the CA comes from caFile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-tb-options-'));
  try {
    await writeFile(join(dir, 'token'), 'A1b2C3', { mode: 0o600 });
    await writeFile(join(dir, 'ca.pem'), 'CA PEM');
    const config = validateConfig({ gateway, cloud: { ...tokenCloud, caFile: join(dir, 'ca.pem'), accessTokenFile: join(dir, 'token') } }).cloud;
    assert.ok(config);
    const credentials = async () => {
      throw new Error('no client certificate is read with a token');
    };
    const builder = new ClientOptionsBuilder({ config, gatewayId: gateway.id, credentials, wire: createWire(config, gateway.id, silentLogger), log: silentLogger });
    const options = (await builder.build(undefined)) as Record<string, unknown>;
    assert.deepEqual(
      { clientId: options.clientId, username: options.username, password: options.password, ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized },
      { clientId: 'plant3-gw7', username: 'A1b2C3', password: undefined, ca: 'CA PEM', cert: undefined, key: undefined, rejectUnauthorized: true },
    );
    assert.equal(builder.cert, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ThingsBoard\'s CONNACK refusals of a token (0x05 over MQTT 3.1.1; 0x86 or 0x87 over MQTT 5) are not-authorized, worded for the token', () => {
  const ctx = { url: 'mqtts://thingsboard.example.com:8883', gatewayId: gateway.id, now: 0 };
  for (const [code, version] of [[5, 4], [0x86, 5], [0x87, 5]] as const) {
    const error = classifyConnack(code, version, ctx);
    assert.equal(error.kind, 'not-authorized');
    assert.match(error.message, /No client certificate was presented, so the broker went by the user name: with cloud\.accessTokenFile, check that the file holds the gateway device's current access token/);
  }
});

test('fieldgate run refuses to start (exit 78) with a token file group or others can read, as with an exposed key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-tb-run-'));
  try {
    const file = join(dir, 'token');
    await writeFile(file, 'A1b2C3');
    await chmod(file, 0o644);
    const config = validateConfig({ gateway: { ...gateway, dataDir: dir }, cloud: { ...tokenCloud, accessTokenFile: file } });
    assert.throws(() => refuseExposedKeys(config), (error: unknown) => error instanceof UserError && error.exitCode === EXPOSED_KEY_EXIT_CODE && /cloud\.accessTokenFile ".*token" is readable by group or others; refusing to start\. Fix: chmod 600 /.test(error.message));
    await chmod(file, 0o600);
    refuseExposedKeys(config);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
