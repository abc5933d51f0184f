// cloud.profile thingsboard against a real Mosquitto set up like ThingsBoard's MQTT transport: an
// ACL confining the gateway to ThingsBoard's v1/ topics, a TLS listener where the access token is
// the user name (no client certificate) and one with client certificates (X.509), and a
// max_packet_size of ThingsBoard's default 65536-byte payload limit. A test client plays
// ThingsBoard: it reads the telemetry, sends RPC and answers certificate rotation.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { SqliteBuffer } from '../../../../main/buffer/sqlite-buffer.js';
import { createDeviceIdentity } from '../../../../main/identity/device-identity.js';
import { silentLogger } from '../../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../../main/metrics/registry.js';
import { systemClock } from '../../../../main/shared/clock.js';
import { cloudSchema } from '../../../../main/shared/config/cloud.js';
import type { Config } from '../../../../main/shared/config/schema.js';
import type { TlsCredentialProvider } from '../../../../main/shared/tls.js';
import { configuredCredentialProvider } from '../../../../main/uplink/credentials.js';
import { CloudTester } from '../../../../main/uplink/test-connection.js';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { createPki, daysFromNow, type IssuedCert, type Pki } from '../../../helpers/pki.js';
import { workspace } from '../../identity/fixture.js';
import { waitFor } from '../fixture.js';
import { startProfileGateway } from './fixture.js';

const GATEWAY = 'gw-1';
const TOKEN = 'A1b2C3d4E5f6G7h8I9j0';
const PLATFORM = 'tb-platform';

/** What ThingsBoard lets a gateway device do, for the token and for the certificate's CN alike. */
const gatewayTopics = [
  'topic write v1/gateway/connect',
  'topic write v1/gateway/disconnect',
  'topic write v1/gateway/telemetry',
  'topic readwrite v1/gateway/rpc',
  'topic write v1/devices/me/attributes',
  'topic write v1/devices/me/telemetry',
  'topic read v1/devices/me/rpc/request/+',
  'topic write v1/devices/me/rpc/response/+',
];
const ACL = [`user ${TOKEN}`, ...gatewayTopics, '', `user ${GATEWAY}`, ...gatewayTopics, '', `user ${PLATFORM}`, 'topic readwrite v1/#', ''].join('\n');

interface Received {
  topic: string;
  body: Record<string, unknown>;
  retain: boolean;
}

let pki: Pki;
let broker: Mosquitto;
let dir: string;
let tokenFile: string;
let platformCert: IssuedCert;
let platform: MqttClient;
const received: Received[] = [];
/** How the platform answers a CSR (telemetry `cert/csr`): with an RPC `cert/issued`. */
let answerCsr: ((request: { requestId: string; csr: string }) => Promise<void>) | undefined;
const running: Array<() => Promise<void>> = [];
let rpcId = 100;

before(async () => {
  pki = await createPki();
  broker = await startMosquitto({ pki, acl: ACL, usernameListener: true, extraConfig: ['max_packet_size 65536'] });
  dir = await mkdtemp(join(tmpdir(), 'fieldgate-tb-'));
  tokenFile = join(dir, 'thingsboard.token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  platformCert = await pki.issueClientCert({ cn: PLATFORM });
  platform = await connectAsync(broker.url, { ca: pki.ca.certPem, cert: platformCert.certPem, key: platformCert.keyPem, protocolVersion: 5, reconnectPeriod: 0 });
  platform.on('message', (topic, payload, packet) => {
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    received.push({ topic, body, retain: packet.retain });
    const csr = topic === 'v1/devices/me/telemetry' ? (body['cert/csr'] as { requestId: string; csr: string } | undefined) : undefined;
    if (csr && answerCsr) void answerCsr(csr);
  });
  await platform.subscribeAsync('v1/#', { qos: 1 });
});

afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
  received.length = 0;
  answerCsr = undefined;
});

after(async () => {
  await platform?.endAsync();
  await broker?.cleanup();
  await pki?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** The cloud section as validated for a real ThingsBoard, then pointed at the test broker. */
function tbCloud(overrides: Record<string, unknown> = {}, url = broker.usernameUrl) {
  const validated = cloudSchema.parse({
    profile: 'thingsboard',
    url: 'mqtts://thingsboard.example.com:8883',
    caFile: pki.ca.certPath,
    accessTokenFile: tokenFile,
    backoff: { initialMs: 100, maxMs: 400 },
    ...overrides,
  });
  return { ...validated, url: url ?? assert.fail('no user name listener') };
}

async function startGateway(options: { cloud?: ReturnType<typeof tbCloud>; credentials?: TlsCredentialProvider; before?: (buffer: SqliteBuffer) => Promise<void> } = {}) {
  const cloud = options.cloud ?? tbCloud();
  const gateway = await startProfileGateway({
    config: cloud,
    gatewayId: GATEWAY,
    credentials: options.credentials ?? configuredCredentialProvider(cloud),
    ...(options.before && { before: options.before }),
  });
  running.push(gateway.stop);
  return gateway;
}

const on = (topic: string) => received.filter((m) => m.topic === topic);
const telemetryOf = (device: string) => on('v1/gateway/telemetry').flatMap((m) => (m.body[device] as Array<{ ts: number; values: Record<string, number> }> | undefined) ?? []);

/** Sends a server-side RPC to the gateway device and waits for its answer. */
async function rpc(method: string, params: unknown = {}): Promise<Record<string, unknown>> {
  const id = ++rpcId;
  await platform.publishAsync(`v1/devices/me/rpc/request/${id}`, JSON.stringify({ method, params }), { qos: 1 });
  return (await waitFor(() => on(`v1/devices/me/rpc/response/${id}`)[0], `the answer to RPC ${id} (${method})`)).body;
}

test('with the access token: each sensor connected before its first telemetry, readings batched with their seqs, acked readings leave the buffer, nothing retained', async () => {
  const appended: Record<string, number[]> = { t1: [], t2: [] };
  const { buffer, uplink, stop } = await startGateway({
    before: async (buffer) => {
      for (let i = 0; i < 3; i++) {
        for (const sensorId of ['t1', 't2']) appended[sensorId]?.push((await buffer.append({ sensorId, ts: 1_700_000_000_000 + i, values: { temperature: { value: 20 + i, unit: '°C' } } })).seq);
      }
    },
  });
  await waitFor(() => buffer.stats(Date.now()).depth === 0, 'every reading acknowledged and gone from the buffer');
  for (const sensorId of ['t1', 't2']) {
    const device = `${GATEWAY}/${sensorId}`;
    const connectAt = received.findIndex((m) => m.topic === 'v1/gateway/connect' && m.body.device === device);
    const telemetryAt = received.findIndex((m) => m.topic === 'v1/gateway/telemetry' && device in m.body);
    assert.ok(connectAt >= 0 && connectAt < telemetryAt, `${device}: connect (${connectAt}) before telemetry (${telemetryAt})`);
    assert.deepEqual(received[connectAt]?.body, { device, type: 'fieldgate-sensor' });
    assert.deepEqual(telemetryOf(device), [0, 1, 2].map((i) => ({ ts: 1_700_000_000_000 + i, values: { temperature: 20 + i, _seq: appended[sensorId]?.[i] } })));
  }
  assert.ok(on('v1/gateway/telemetry').some((m) => (m.body[`${GATEWAY}/t1`] as unknown[] | undefined)?.length === 3), 'the three readings of t1 travel in one message');
  // Later readings on the same connection are not announced again.
  const later = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 30, unit: '°C' } } });
  uplink.wake();
  await waitFor(() => telemetryOf(`${GATEWAY}/t1`).some((e) => e.values._seq === later.seq), 'the later reading');
  assert.equal(on('v1/gateway/connect').filter((m) => m.body.device === `${GATEWAY}/t1`).length, 1);
  const online = await waitFor(() => on('v1/devices/me/attributes').find((m) => m.body.online === true), 'the online status attributes');
  assert.equal(online.body.version, '9.9.9-test');
  await stop();
  await waitFor(() => on('v1/devices/me/attributes').find((m) => m.body.online === false), 'the offline status attributes on a graceful stop');
  assert.deepEqual(on('v1/gateway/disconnect').map((m) => m.body.device).sort(), [`${GATEWAY}/t1`, `${GATEWAY}/t2`], 'each connected sensor disconnected on the graceful stop');
  assert.deepEqual(received.filter((m) => m.retain), []);
  // A late subscriber gets retained messages before anything published after its SUBACK: none arrive before the marker.
  const late = await connectAsync(broker.url, { ca: pki.ca.certPem, cert: platformCert.certPem, key: platformCert.keyPem, protocolVersion: 5, reconnectPeriod: 0, clientId: 'tb-late' });
  try {
    const seen: string[] = [];
    late.on('message', (topic) => seen.push(topic));
    await late.subscribeAsync('v1/#', { qos: 1 });
    await late.publishAsync('v1/marker', '{}', { qos: 1 });
    await waitFor(() => seen.includes('v1/marker'), 'the marker');
    assert.deepEqual(seen, ['v1/marker']);
  } finally {
    await late.endAsync();
  }
});

test('server-side RPC ping and flush are answered by the command handler; unknown methods are refused; gateway RPC reaches a sensor through the gateway', async () => {
  const { uplink } = await startGateway();
  await waitFor(() => uplink.status().state === 'connected', 'the connection');
  const ping = await rpc('ping');
  assert.equal(ping.ok, true);
  assert.equal((ping.result as { version?: string }).version, '9.9.9-test');
  const flush = await rpc('flush');
  assert.deepEqual({ ok: flush.ok, flushing: (flush.result as { flushing?: boolean }).flushing }, { ok: true, flushing: true });
  const unknown = await rpc('reboot');
  assert.equal(unknown.ok, false);
  assert.match(String(unknown.error), /unknown command "reboot"; known: ping, flush/);
  const extra = await rpc('ping', { force: true });
  assert.equal(extra.ok, false);
  await platform.publishAsync('v1/gateway/rpc', JSON.stringify({ device: `${GATEWAY}/t1`, data: { id: 5, method: 'ping', params: {} } }), { qos: 1 });
  const reply = await waitFor(() => on('v1/gateway/rpc').find((m) => m.body.id === 5 && 'data' in m.body && (m.body.data as { ok?: boolean }).ok !== undefined), 'the gateway RPC reply');
  assert.deepEqual({ device: reply.body.device, ok: (reply.body.data as { ok: boolean }).ok }, { device: `${GATEWAY}/t1`, ok: true });
});

test('with the access token a reconnect resumes the TLS session (no client certificate in it) and still delivers', async () => {
  const { buffer, uplink, metrics } = await startGateway();
  await waitFor(() => uplink.status().state === 'connected', 'the first connection');
  await uplink.reconnect();
  const values = (await metrics.getSingleMetric('fieldgate_uplink_tls_handshakes_total')?.get())?.values ?? [];
  assert.deepEqual(Object.fromEntries(values.map((v) => [v.labels.resumed, v.value])), { false: 1, true: 1 });
  const reading = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 22, unit: '°C' } } });
  uplink.wake();
  await waitFor(() => telemetryOf(`${GATEWAY}/t1`).some((e) => e.values._seq === reading.seq), 'the reading over the resumed session');
});

test('a wrong access token is refused (not-authorized); a missing, empty or group-readable token file is bad-credentials naming the key', async () => {
  const wrongFile = join(dir, 'wrong.token');
  await writeFile(wrongFile, 'not-the-token', { mode: 0o600 });
  const wrong = await startGateway({ cloud: tbCloud({ accessTokenFile: wrongFile }) });
  // ThingsBoard refuses an unknown token in CONNACK (not-authorized; see the profile's unit test). Mosquitto 2.0 cannot
  // check a user name without a password, so here the ACL refuses the token's first publish, which the uplink names the same way.
  const refused = await waitFor(() => wrong.uplink.status().lastError ?? undefined, 'the refusal of the wrong token');
  assert.equal(refused.kind, 'publish-not-authorized');
  assert.match(refused.message, /went by the user name: with cloud\.accessTokenFile, check that the file holds the gateway device's current access token/);
  assert.doesNotMatch(JSON.stringify(wrong.uplink.status()), /not-the-token/, 'the token is not shown');
  const missing = await startGateway({ cloud: tbCloud({ accessTokenFile: join(dir, 'absent.token') }) });
  const problem = await waitFor(() => missing.uplink.status().lastError ?? undefined, 'the missing file');
  assert.equal(problem.kind, 'bad-credentials');
  assert.match(problem.message, /cannot read cloud\.accessTokenFile ".*absent\.token" \(ENOENT\)/);
  const shared = join(dir, 'shared.token');
  await writeFile(shared, TOKEN);
  await chmod(shared, 0o644);
  const readable = await startGateway({ cloud: tbCloud({ accessTokenFile: shared }) });
  const refusal = await waitFor(() => readable.uplink.status().lastError ?? undefined, 'the group-readable file');
  assert.equal(refusal.kind, 'bad-credentials');
  assert.match(refusal.message, /is readable by group or others \(mode 0644\); refusing it\. Fix: chmod 600 /);
  assert.doesNotMatch(refusal.message, new RegExp(TOKEN));
});

test('test connection (the setup UI) works with the token, and says what is wrong with the token file', async () => {
  const tester = new CloudTester({ gatewayId: GATEWAY, onBoxIdentity: undefined, caDir: join(dir, 'cloud-ca'), log: silentLogger, clock: systemClock });
  const url = broker.usernameUrl ?? assert.fail('no user name listener');
  const settings = (overrides: Record<string, unknown> = {}) => ({ settings: { ...tbCloud(overrides), url } });
  assert.deepEqual(await tester.test(settings()), { ok: true, broker: url, message: `connected to ${url} with the access token in cloud.accessTokenFile; nothing was saved` });
  const empty = join(dir, 'empty.token');
  await writeFile(empty, '', { mode: 0o600 });
  const result = await tester.test(settings({ accessTokenFile: empty }));
  assert.ok(!result.ok);
  assert.equal(result.kind, 'bad-credentials');
  assert.match(result.message, /cloud\.accessTokenFile ".*empty\.token" is empty/);
});

test('with X.509 (the on-box identity): readings flow, and rotation works through telemetry cert/csr and the RPC cert/issued', async () => {
  const ws = workspace(() => ({
    caFile: pki.ca.certPath,
    cloud: { profile: 'thingsboard', url: broker.url, caFile: pki.ca.certPath, connectTimeoutMs: 5_000, backoff: { initialMs: 50, maxMs: 500, stableMs: 1_000 } },
    identity: { rotation: { atLifetimeShare: 0.5, responseTimeoutMs: 60_000 }, checkIntervalMs: 60_000 },
  }));
  const config: Config = ws.config;
  const metrics = createMetricsRegistry({ processMetrics: false });
  const identity = createDeviceIdentity({ config, log: silentLogger, clock: systemClock, metrics });
  const { csrPem } = await identity.store.writeProvisioningCsr();
  // 20 of 30 days are gone: past half the lifetime, so rotation is due at start.
  identity.store.importCertificate(await pki.signCsr(csrPem, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) }), 'provisioned', Date.now());
  const oldSerial = identity.store.describe().serial;
  answerCsr = async ({ requestId, csr }) => {
    const cert = await pki.signCsr(csr, { days: 90 });
    await platform.publishAsync(`v1/devices/me/rpc/request/${++rpcId}`, JSON.stringify({ method: 'cert/issued', params: { requestId, cert } }), { qos: 1 });
  };
  const gw = await startGateway({ cloud: config.cloud as ReturnType<typeof tbCloud>, credentials: identity.credentials.provide });
  const rotation = identity.rotation(gw.uplink);
  const controller = new AbortController();
  await rotation.start(controller.signal);
  running.unshift(async () => {
    controller.abort();
    await rotation.stop();
    ws.cleanup();
  });
  const reading = await gw.buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 21, unit: '°C' } } });
  gw.uplink.wake();
  await waitFor(() => telemetryOf(`${GATEWAY}/t1`).some((e) => e.values._seq === reading.seq), 'the reading over X.509');
  const status = await waitFor(() => on('v1/devices/me/telemetry').map((m) => m.body['cert/status'] as { state?: string } | undefined).find((s) => s?.state === 'installed'), 'cert/status "installed"');
  assert.ok(status);
  assert.notEqual(identity.store.describe().serial, oldSerial);
  await waitFor(() => gw.uplink.status().state === 'connected', 'the uplink connected with the new certificate');
  assert.equal(gw.uplink.status().certificate?.commonName, GATEWAY);
});

test('a reading larger than the 65536-byte payload limit is set aside with a readingsDropped record; the rest flows', async () => {
  const { buffer, uplink } = await startGateway();
  await waitFor(() => uplink.status().state === 'connected', 'the connection');
  // Values travel as bare numbers, so only many quantities make a reading this large (~80 KB).
  const many = Object.fromEntries(Array.from({ length: 1_200 }, (_, i) => [`q${String(i).padStart(4, '0')}${'x'.repeat(55)}`, { value: 1.5, unit: 'x' }]));
  const big = await buffer.append({ sensorId: 'wide', ts: Date.now(), values: many });
  const small = await buffer.append({ sensorId: 'wide', ts: Date.now(), values: { temperature: { value: 20, unit: '°C' } } });
  uplink.wake();
  const drop = await waitFor(() => on('v1/devices/me/telemetry').map((m) => (m.body.values as { readingsDropped?: Record<string, unknown> } | undefined)?.readingsDropped).find((d) => d !== undefined), 'the readingsDropped record');
  assert.deepEqual({ sensor: drop.sensor, reason: drop.reason, firstSeq: drop.firstSeq, lastSeq: drop.lastSeq }, { sensor: 'wide', reason: 'refused', firstSeq: big.seq, lastSeq: big.seq });
  await waitFor(() => buffer.stats(Date.now()).depth === 0, 'the buffer to empty');
  assert.deepEqual(telemetryOf(`${GATEWAY}/wide`).map((e) => e.values._seq), [small.seq]);
});
