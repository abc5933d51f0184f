import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Registry } from '../../../main/metrics/registry.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { cloudSubscriber, readingsOf, startRig, waitFor, type Rig } from './fixture.js';

const GATEWAY_ID = 'gw-resume';

let pki: Pki;
let otherPki: Pki;
let broker: Mosquitto;
let rig: Rig;

/** The uplink's handshake counter, by whether the handshake resumed a session (tlsSocket.isSessionReused()). */
async function handshakes(metrics: Registry): Promise<{ full: number; resumed: number }> {
  const values = (await metrics.getSingleMetric('fieldgate_uplink_tls_handshakes_total')?.get())?.values ?? [];
  const count = (resumed: string) => values.find((v) => v.labels.resumed === resumed)?.value ?? 0;
  return { full: count('false'), resumed: count('true') };
}

before(async () => {
  pki = await createPki();
  otherPki = await createPki();
  broker = await startMosquitto({ pki });
  rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: GATEWAY_ID }), gatewayId: GATEWAY_ID });
  await waitFor(() => rig.uplink.status().state === 'connected', 'the first connection');
});

after(async () => {
  await rig?.stop();
  await broker?.cleanup();
  await pki?.cleanup();
  await otherPki?.cleanup();
});

test('the first connection is a full handshake; a reconnect to the same broker resumes the TLS session and still delivers', async () => {
  assert.deepEqual(await handshakes(rig.metrics), { full: 1, resumed: 0 });
  await rig.uplink.reconnect();
  assert.deepEqual(await handshakes(rig.metrics), { full: 1, resumed: 1 });

  const cloud = await cloudSubscriber(broker, pki);
  try {
    const reading = await rig.buffer.append({ sensorId: 't1', ts: Date.now(), values: { temperature: { value: 21.5, unit: '°C' } } });
    rig.uplink.wake();
    const received = await waitFor(() => readingsOf(cloud.messages, broker.prefix, GATEWAY_ID).find((r) => r.seq === reading.seq), 'the reading over the resumed session');
    assert.equal(received.sensor, 't1');
  } finally {
    await cloud.close();
  }
});

test('after a certificate rotation the next connect is a full handshake, and the one after resumes the new session', async () => {
  const before = await handshakes(rig.metrics);
  rig.credentials.current = { ...rig.credentials.current, ...pemOf(await pki.issueClientCert({ cn: GATEWAY_ID })) };
  await rig.uplink.reconnect();
  assert.deepEqual(await handshakes(rig.metrics), { full: before.full + 1, resumed: before.resumed });
  await rig.uplink.reconnect();
  assert.deepEqual(await handshakes(rig.metrics), { full: before.full + 1, resumed: before.resumed + 1 });
});

test('after a CA change (a new trust bundle) the next connect is a full handshake', async () => {
  const before = await handshakes(rig.metrics);
  rig.credentials.current = { ...rig.credentials.current, ca: `${pki.ca.certPem}${otherPki.ca.certPem}` };
  await rig.uplink.reconnect();
  assert.deepEqual(await handshakes(rig.metrics), { full: before.full + 1, resumed: before.resumed });
});

test('a broker restart invalidates its tickets: the uplink falls back to a full handshake and reconnects', async () => {
  await rig.uplink.reconnect();
  const before = await handshakes(rig.metrics);
  const since = rig.uplink.status().connectedSince;
  await broker.stop();
  await broker.start();
  await waitFor(() => rig.uplink.status().state === 'connected' && rig.uplink.status().connectedSince !== since, 'the reconnect after the restart');
  assert.deepEqual(await handshakes(rig.metrics), { full: before.full + 1, resumed: before.resumed });
});

function pemOf(cert: { certPem: string; keyPem: string }) {
  return { cert: cert.certPem, key: cert.keyPem };
}
