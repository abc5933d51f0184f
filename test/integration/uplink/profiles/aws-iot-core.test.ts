import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cloudSchema } from '../../../../main/shared/config/cloud.js';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { createPki, type IssuedCert, type Pki } from '../../../helpers/pki.js';
import { cloudSubscriber, waitFor } from '../fixture.js';
import { startProfileGateway } from './fixture.js';

const THING = 'plant3-line2_gw-7';
const PREFIX = 'fieldgate';

let pki: Pki;
let broker: Mosquitto;
let cert: IssuedCert;
let ingest: Awaited<ReturnType<typeof cloudSubscriber>>;
const running: Array<() => Promise<void>> = [];

before(async () => {
  pki = await createPki();
  broker = await startMosquitto({
    pki,
    prefix: PREFIX,
    // Like an AWS IoT policy with ${iot:ClientId}: a client may only use topics under its own client id.
    acl: [`pattern readwrite ${PREFIX}/%c/#`, '', 'user cloud-ingest', `topic readwrite ${PREFIX}/#`, ''].join('\n'),
    // AWS's 100 unacknowledged publishes per client; a packet limit above AWS's 128 KB, so only the profile's cap can stop a larger payload.
    extraConfig: ['max_inflight_messages 100', 'max_packet_size 262144'],
  });
  cert = await pki.issueClientCert({ cn: THING });
  ingest = await cloudSubscriber(broker, pki);
});

afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
  ingest.messages.length = 0;
});

after(async () => {
  await ingest?.close();
  await broker?.cleanup();
  await pki?.cleanup();
});

/** A gateway with the aws-iot-core profile (validated for a real endpoint), pointed at the test broker. */
async function startGateway(options: { cloud?: Record<string, unknown>; clock?: { now(): number }; client?: IssuedCert } = {}) {
  const validated = cloudSchema.parse({
    profile: 'aws-iot-core',
    url: 'mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:8883',
    caFile: '/unused/ca.pem',
    certFile: '/unused/cert.pem',
    keyFile: '/unused/key.pem',
    backoff: { initialMs: 100, maxMs: 400 },
    ...options.cloud,
  });
  const gateway = await startProfileGateway({
    config: { ...validated, url: broker.url },
    gatewayId: THING,
    credentials: async () => ({ ca: pki.ca.certPem, cert: (options.client ?? cert).certPem, key: (options.client ?? cert).keyPem }),
    ...(options.clock && { clock: options.clock }),
  });
  running.push(gateway.stop);
  return gateway;
}

const readingsMessages = () => ingest.messages.filter((m) => m.topic.startsWith(`${PREFIX}/${THING}/readings/`));
const readingsIn = () => readingsMessages().flatMap((m) => (JSON.parse(m.text) as { readings: Array<{ sensor: string; seq: number }> }).readings);

test('the thing name is the client id: a policy on the client id lets its readings and status through', async () => {
  const { buffer, uplink } = await startGateway();
  await waitFor(() => uplink.status().state === 'connected', 'the connection');
  const appended = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 21.5, unit: '°C' } } });
  uplink.wake();
  await waitFor(() => readingsIn().find((r) => r.seq === appended.seq), 'the reading');
  assert.equal(readingsMessages()[0]?.topic, `${PREFIX}/${THING}/readings/t1`);
  const status = ingest.messages.find((m) => m.topic === `${PREFIX}/${THING}/status`);
  assert.equal((JSON.parse(status?.text ?? '{}') as { online?: boolean }).online, true);
});

test('a certificate AWS issued (CN "AWS IoT Certificate") is no identity mismatch: the thing name is the client id, even over MQTT 3.1.1', async () => {
  const awsIssued = await pki.issueClientCert({ cn: 'AWS IoT Certificate' });
  const { buffer, uplink } = await startGateway({ client: awsIssued, cloud: { protocolVersion: 4 } });
  const appended = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 19, unit: '°C' } } });
  uplink.wake();
  await waitFor(() => readingsIn().find((r) => r.seq === appended.seq), 'the reading');
  assert.equal(uplink.status().errors['identity-mismatch'], undefined);
});

test('the broker policy refuses a client whose id is not the thing name (what the profile prevents by fixing the client id)', async () => {
  const { uplink } = await startGateway({ cloud: { profile: 'generic', clientId: 'not-the-thing' } });
  await waitFor(() => uplink.status().lastError?.kind === 'not-authorized' || uplink.status().lastError?.kind === 'publish-not-authorized', 'the refusal');
});

test('the drain follows the 100 publishes per second cap: with the clock standing still, exactly 100 messages go out', async () => {
  let now = Date.now();
  const clock = { now: () => now };
  const { buffer, uplink } = await startGateway({ clock, cloud: { batch: { maxReadings: 1 } } });
  await waitFor(() => uplink.status().state === 'connected', 'the connection');
  for (let i = 0; i < 250; i++) await buffer.append({ sensorId: 'fast', ts: Date.now(), values: { temperature: { value: i, unit: '°C' } } });
  uplink.wake();
  await waitFor(() => readingsMessages().length >= 100, '100 messages');
  await new Promise((resolve) => setTimeout(resolve, 300)); // the sender polls every 10 ms meanwhile
  assert.equal(readingsMessages().length, 100, 'messages sent in one (frozen) second');
  assert.equal(buffer.stats(Date.now()).depth, 150);
  now += 1_000;
  uplink.wake();
  await waitFor(() => readingsMessages().length >= 200, '200 messages after one more second');
  now += 1_000;
  uplink.wake();
  await waitFor(() => buffer.stats(Date.now()).depth === 0 && readingsMessages().length === 250, 'the rest');
  assert.deepEqual(new Set(readingsIn().map((r) => r.seq)).size, 250);
});

test('a reading over the 128 KB payload limit is set aside with a drop record, although this broker would take it; the rest flows', async () => {
  const { buffer, uplink } = await startGateway();
  await waitFor(() => uplink.status().state === 'connected', 'the connection');
  const big = await buffer.append({ sensorId: 'cam', ts: Date.now(), values: { image: { value: 1, unit: 'x'.repeat(140_000) } } });
  const fits = await buffer.append({ sensorId: 'cam', ts: Date.now(), values: { image: { value: 2, unit: 'y'.repeat(100_000) } } });
  const small = await buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 20, unit: '°C' } } });
  uplink.wake();
  const drop = await waitFor(
    () => ingest.messages.filter((m) => m.topic === `${PREFIX}/${THING}/alerts`).map((m) => JSON.parse(m.text) as Record<string, unknown>).find((a) => a.type === 'readings-dropped'),
    'the drop record',
  );
  assert.deepEqual({ sensor: drop.sensor, reason: drop.reason, firstSeq: drop.firstSeq, lastSeq: drop.lastSeq }, { sensor: 'cam', reason: 'refused', firstSeq: big.seq, lastSeq: big.seq });
  await waitFor(() => buffer.stats(Date.now()).depth === 0, 'the buffer to empty');
  const delivered = readingsIn().map((r) => `${r.sensor}:${r.seq}`);
  assert.ok(delivered.includes(`cam:${fits.seq}`) && delivered.includes(`t1:${small.seq}`), delivered.join(' '));
  assert.ok(!delivered.includes(`cam:${big.seq}`));
  assert.ok(readingsMessages().every((m) => Buffer.byteLength(m.text) <= 128 * 1024));
});
