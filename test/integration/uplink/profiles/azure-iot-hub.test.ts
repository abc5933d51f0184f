import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { createLogger, silentLogger } from '../../../../main/log/logger.js';
import { systemClock } from '../../../../main/shared/clock.js';
import { cloudSchema } from '../../../../main/shared/config/cloud.js';
import { CloudTester } from '../../../../main/uplink/test-connection.js';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { createPki, type IssuedCert, type Pki } from '../../../helpers/pki.js';
import { waitFor } from '../fixture.js';
import { startProfileGateway } from './fixture.js';

const DEVICE = 'MyDevice01';
/** IoT Hub's user name for the device; the test broker is reached as `localhost`, the hub host in the URL. */
const USERNAME = `localhost/${DEVICE}/?api-version=2021-04-12`;
const EVENTS = `devices/${DEVICE}/messages/events/`;
const DEVICEBOUND = `devices/${DEVICE}/messages/devicebound/`;

interface HubMessage {
  topic: string;
  text: string;
  retain: boolean;
}

let pki: Pki;
let broker: Mosquitto;
let cert: IssuedCert;
let hub: { client: MqttClient; messages: HubMessage[]; twinAnswer: number };
const running: Array<() => Promise<void>> = [];

/**
 * Mosquitto made to behave like IoT Hub where it can: the device gets only its own
 * `devices/<id>/messages/…` topics and the `$iothub/…` topics of the device API, and only under
 * IoT Hub's user name (the certificate is still required, but not its CN: thumbprint devices);
 * QoS 0/1; no retained messages (a retained PUBLISH closes the connection); 256 KB packets.
 * Mosquitto lets clients publish and subscribe `$iothub/…` like any topic (only `$SYS/…` is its
 * own; `#` does not match `$` topics, hence the explicit rules). What it cannot mimic: on IoT Hub
 * `$iothub/…` is private to each connection, here it is shared; and Mosquitto cannot refuse MQTT 5
 * clients, so the test reads the protocol level off the broker's connect log instead.
 */
const ACL = [
  `user ${USERNAME}`,
  `topic write ${EVENTS}#`,
  `topic read ${DEVICEBOUND}#`,
  'topic read $iothub/methods/POST/#',
  'topic write $iothub/methods/res/#',
  'topic write $iothub/twin/PATCH/properties/reported/#',
  'topic read $iothub/twin/res/#',
  '',
  'user iothub',
  'topic readwrite devices/#',
  'topic readwrite $iothub/#',
  '',
].join('\n');

before(async () => {
  pki = await createPki();
  broker = await startMosquitto({
    pki,
    acl: ACL,
    identityAsUsername: false,
    websockets: true,
    extraConfig: ['max_packet_size 262144', 'max_qos 1', 'retain_available false'],
  });
  // A certificate whose CN is not the device id: IoT Hub goes by its thumbprint for self-signed devices.
  cert = await pki.issueClientCert({ cn: 'thumbprint-registered' });
  hub = await startHub();
});

afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
  hub.messages.length = 0;
  hub.twinAnswer = 204;
});

after(async () => {
  await hub?.client.endAsync(true);
  await broker?.cleanup();
  await pki?.cleanup();
});

/** The hub side: sees the device's telemetry, twin updates and method answers, answers twin PATCHes. */
async function startHub() {
  const hubCert = await pki.issueClientCert({ cn: 'iothub' });
  const client = connect(broker.url, { ca: pki.ca.certPem, cert: hubCert.certPem, key: hubCert.keyPem, username: 'iothub', protocolVersion: 4, clientId: `hub-${process.pid}` });
  const state = { client, messages: [] as HubMessage[], twinAnswer: 204 };
  client.on('message', (topic, payload, packet) => {
    state.messages.push({ topic, text: payload.toString(), retain: packet.retain });
    const patch = /^\$iothub\/twin\/PATCH\/properties\/reported\/\?\$rid=(.+)$/.exec(topic);
    if (patch) void client.publishAsync(`$iothub/twin/res/${state.twinAnswer}/?$rid=${patch[1]}&$version=${state.messages.length}`, '', { qos: 1 });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync([`${EVENTS}#`, '$iothub/twin/PATCH/#', '$iothub/methods/res/#'], { qos: 1 });
  return state;
}

/** The worked config of the README (validated for a real hub), pointed at the test broker. */
function azureSettings(url: string, overrides: Record<string, unknown> = {}) {
  const validated = cloudSchema.parse({
    profile: 'azure-iot-hub',
    url: 'mqtts://contoso.azure-devices.net:8883',
    caFile: pki.ca.certPath,
    certFile: cert.certPath,
    keyFile: cert.keyPath,
    backoff: { initialMs: 100, maxMs: 400 },
    ...overrides,
  });
  return { ...validated, url };
}

async function startGateway(options: { url?: string; lines?: Array<Record<string, unknown>> } = {}) {
  const lines = options.lines;
  const log = lines ? createLogger({ destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } }) : silentLogger;
  const gateway = await startProfileGateway({
    config: azureSettings(options.url ?? broker.url),
    gatewayId: DEVICE,
    credentials: async () => ({ ca: pki.ca.certPem, cert: cert.certPem, key: cert.keyPem }),
    log,
  });
  running.push(gateway.stop);
  await waitFor(() => gateway.uplink.status().state === 'connected', 'the connection');
  return gateway;
}

const telemetry = (type: string) => hub.messages.filter((m) => m.topic.startsWith(`${EVENTS}type=${type}&`));
const readingsIn = () => telemetry('readings').flatMap((m) => (JSON.parse(m.text) as { readings: Array<{ sensor: string; seq: number }> }).readings);

test('readings arrive as telemetry with the property bag, over MQTT 3.1.1 with IoT Hub\'s user name; acked readings leave the buffer; nothing is retained', async () => {
  const { buffer } = await startGateway();
  const first = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 21.5, unit: '°C' } } });
  const second = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 21.6, unit: '°C' } } });
  await waitFor(() => readingsIn().some((r) => r.seq === second.seq), 'the readings');
  assert.deepEqual(
    readingsIn().map((r) => r.seq),
    [first.seq, second.seq],
  );
  assert.equal(telemetry('readings')[0]?.topic, `${EVENTS}type=readings&sensor=t1&$.ct=application%2Fjson&$.ce=utf-8`);
  await waitFor(() => buffer.stats(Date.now()).depth === 0, 'the acked readings to leave the buffer');
  // Mosquitto logs each connect as "… as <client id> (p<protocol>, c<clean>, k<keepalive>, u'<user name>')": p2 is MQTT 3.1.1.
  assert.match(broker.log(), new RegExp(`as ${DEVICE} \\(p2, c1, k30, u'${USERNAME.replace(/[?/]/g, '\\$&')}'\\)`));
  // The status went into the twin (a PATCH of reported properties), answered 204 by the hub.
  const patch = hub.messages.find((m) => m.topic.startsWith('$iothub/twin/PATCH/properties/reported/?$rid='));
  assert.equal((JSON.parse(patch?.text ?? '{}') as { status?: { online?: boolean } }).status?.online, true);
  assert.ok(hub.messages.length > 0 && hub.messages.every((m) => !m.retain), 'no retained message (retain_available false would also have closed the connection)');
});

test('a twin update the hub refuses (status 400) is logged; the gateway stays connected', async () => {
  hub.twinAnswer = 400;
  const lines: Array<Record<string, unknown>> = [];
  const { uplink } = await startGateway({ lines });
  const refused = await waitFor(() => lines.find((l) => String(l.msg).includes('refused the status update of the device twin')), 'the logged refusal');
  assert.equal(refused.status, 400);
  assert.equal(uplink.status().state, 'connected');
});

test('direct methods ping and flush are answered on $iothub/methods/res/<status>/?$rid=…; an unknown method gets 400', async () => {
  await startGateway();
  await hub.client.publishAsync('$iothub/methods/POST/ping/?$rid=7', '{"id":"m-1"}', { qos: 1 });
  await hub.client.publishAsync('$iothub/methods/POST/flush/?$rid=8', 'null', { qos: 1 });
  await hub.client.publishAsync('$iothub/methods/POST/reboot/?$rid=9', '{}', { qos: 1 });
  const answer = (rid: number) => hub.messages.find((m) => m.topic.startsWith('$iothub/methods/res/') && m.topic.endsWith(`/?$rid=${rid}`));
  await waitFor(() => answer(7) && answer(8) && answer(9), 'the three answers');
  assert.equal(answer(7)?.topic, '$iothub/methods/res/200/?$rid=7');
  const ping = JSON.parse(answer(7)?.text ?? '{}') as { id?: string; ok?: boolean; result?: { version?: string } };
  assert.deepEqual([ping.id, ping.ok, ping.result?.version], ['m-1', true, '9.9.9-test']);
  assert.equal(answer(8)?.topic, '$iothub/methods/res/200/?$rid=8');
  assert.deepEqual((JSON.parse(answer(8)?.text ?? '{}') as { result?: unknown }).result, { bufferDepth: 0, flushing: true });
  assert.equal(answer(9)?.topic, '$iothub/methods/res/400/?$rid=9');
  assert.match((JSON.parse(answer(9)?.text ?? '{}') as { error?: string }).error ?? '', /unknown command "reboot"; known: ping, flush/);
});

test('a devicebound command message is answered as telemetry correlated by $.cid', async () => {
  await startGateway();
  await hub.client.publishAsync(`${DEVICEBOUND}%24.mid=c2d-1&%24.to=%2Fdevices%2F${DEVICE}%2Fmessages%2FdeviceBound&command=ping`, '{"id":"d-1"}', { qos: 1 });
  const result = await waitFor(() => telemetry('command-result')[0], 'the command result');
  assert.equal(result.topic, `${EVENTS}type=command-result&command=ping&$.cid=c2d-1&$.ct=application%2Fjson&$.ce=utf-8`);
  assert.deepEqual((JSON.parse(result.text) as { id?: string; ok?: boolean }).ok, true);
});

test("certificate rotation's control messages travel: cert/csr out as telemetry, cert/issued in as a devicebound message", async () => {
  const { uplink } = await startGateway();
  const issued: string[] = [];
  uplink.onControl('cert/issued', (payload) => void issued.push(payload.toString()));
  await uplink.publishControl('cert/csr', { requestId: 'r-1', csr: '-----BEGIN CERTIFICATE REQUEST-----…' });
  const csr = await waitFor(() => telemetry('control')[0], 'the CSR');
  assert.equal(csr.topic, `${EVENTS}type=control&control=cert%2Fcsr&$.ct=application%2Fjson&$.ce=utf-8`);
  assert.equal((JSON.parse(csr.text) as { requestId?: string }).requestId, 'r-1');
  await hub.client.publishAsync(`${DEVICEBOUND}%24.mid=c2d-2&control=cert%2Fissued`, '{"requestId":"r-1","certificate":"…"}', { qos: 1 });
  await waitFor(() => issued.length === 1, 'the issued certificate');
  assert.equal(issued[0], '{"requestId":"r-1","certificate":"…"}');
});

test('a reading over 256 KB is set aside with a drop record sent as a type=alert telemetry message; the rest flows', async () => {
  const { buffer, uplink } = await startGateway();
  const big = await buffer.append({ sensorId: 'cam', ts: Date.now(), values: { image: { value: 1, unit: 'x'.repeat(270_000) } } });
  const small = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 20, unit: '°C' } } });
  const drop = await waitFor(() => telemetry('alert').map((m) => JSON.parse(m.text) as Record<string, unknown>).find((a) => a.type === 'readings-dropped'), 'the drop record');
  assert.deepEqual({ sensor: drop.sensor, reason: drop.reason, firstSeq: drop.firstSeq }, { sensor: 'cam', reason: 'refused', firstSeq: big.seq });
  await waitFor(() => readingsIn().some((r) => r.sensor === 't1' && r.seq === small.seq), 'the small reading');
  // The profile's cap stopped it before the broker's max_packet_size could close the connection.
  assert.deepEqual(uplink.status().errors, {});
});

test('a graceful stop sends the offline status as a type=status telemetry message (the will has the same topic) and as the twin\'s reported status', async () => {
  const { uplink } = await startGateway();
  await waitFor(() => twinStatuses().some((status) => status.online === true), 'the online twin status');
  await uplink.stop();
  const offline = await waitFor(() => telemetry('status')[0], 'the offline status');
  assert.equal(offline.topic, `${EVENTS}type=status&$.ct=application%2Fjson&$.ce=utf-8`);
  assert.deepEqual(JSON.parse(offline.text), { online: false, version: '9.9.9-test' });
  assert.equal(offline.retain, false);
  assert.deepEqual(await waitFor(() => twinStatuses().at(-1)?.online === false ? twinStatuses().at(-1) : undefined, 'the offline twin status'), { online: false, version: '9.9.9-test' });
});

function twinStatuses(): Array<Record<string, unknown>> {
  return hub.messages.filter((m) => m.topic.startsWith('$iothub/twin/PATCH/properties/reported/')).map((m) => (JSON.parse(m.text) as { status: Record<string, unknown> }).status);
}

test('MQTT over WebSockets at /$iothub/websocket carries the same telemetry', async () => {
  assert.ok(broker.wsUrl);
  const { buffer } = await startGateway({ url: `${broker.wsUrl}/$iothub/websocket` });
  const appended = await buffer.append({ sensorId: 'ws1', ts: Date.now(), values: { temperature: { value: 18, unit: '°C' } } });
  await waitFor(() => readingsIn().some((r) => r.sensor === 'ws1' && r.seq === appended.seq), 'the reading over WebSockets');
  assert.equal(telemetry('readings')[0]?.topic, `${EVENTS}type=readings&sensor=ws1&$.ct=application%2Fjson&$.ce=utf-8`);
});

test("the test connection uses the device id (IoT Hub takes no other) and says it took over the uplink's connection, which sends its will and comes back", async () => {
  const { buffer, uplink } = await startGateway();
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-azure-test-'));
  running.push(() => rm(dir, { recursive: true, force: true }));
  const tester = new CloudTester({ gatewayId: DEVICE, onBoxIdentity: undefined, caDir: dir, log: silentLogger, clock: systemClock });
  const result = await tester.test({ settings: azureSettings(broker.url) });
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.match(result.message, /connected as "MyDevice01" and took over the running uplink's connection, if any: it reconnects by itself/);
  assert.match(broker.log(), new RegExp(`Client ${DEVICE} already connected, closing old connection`), 'the test connected with the device id');
  await waitFor(() => (uplink.status().errors['connection-lost'] ?? 0) >= 1 && uplink.status().state === 'connected', 'the uplink to lose its connection and reconnect');
  // The dropped connection ended without DISCONNECT: its will, the offline status, arrives as telemetry.
  const will = await waitFor(() => telemetry('status')[0], 'the will');
  assert.deepEqual([will.topic, JSON.parse(will.text), will.retain], [`${EVENTS}type=status&$.ct=application%2Fjson&$.ce=utf-8`, { online: false, version: '9.9.9-test' }, false]);
  const appended = await buffer.append({ sensorId: 't9', ts: Date.now(), values: { temperature: { value: 1, unit: '°C' } } });
  await waitFor(() => readingsIn().some((r) => r.sensor === 't9' && r.seq === appended.seq), 'a reading after the reconnect');
});
