import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPki, type Pki, type IssuedCert } from '../../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { cloudSubscriber, readingsOf, startRig, waitFor, type Received } from './fixture.js';

const values = (t: number) => ({ temperature: { value: t, unit: '°C' } });

describe('uplink against a real Mosquitto with mutual TLS and the recommended ACL', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let cloud: Awaited<ReturnType<typeof cloudSubscriber>>;
  let gw1: IssuedCert;

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki });
    cloud = await cloudSubscriber(broker, pki);
    gw1 = await pki.issueClientCert({ cn: 'gw-1' });
  });

  after(async () => {
    await cloud?.close();
    await broker?.cleanup();
    await pki?.cleanup();
  });

  it('delivers readings with the right topic and payload, announces status and empties the buffer on PUBACK', async () => {
    const rig = await startRig({ broker, pki, client: gw1, gatewayId: 'gw-1' });
    try {
      const ts = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
      for (let i = 0; i < 5; i++) await rig.buffer.append({ sensorId: 't1', ts: ts + i, values: values(20 + i) });
      await rig.buffer.append({ sensorId: 'h2', ts, values: { humidity: { value: 55, unit: '%' } } });
      rig.uplink.wake();
      const got = await waitFor(() => {
        const r = readingsOf(cloud.messages, 'fieldgate', 'gw-1');
        return r.length >= 6 && r;
      }, 'six readings at the subscriber');
      const t1 = got.filter((r) => r.sensor === 't1');
      assert.deepEqual(t1.map((r) => r.seq), [1, 2, 3, 4, 5]);
      assert.ok(t1.every((r) => r.topic === 'fieldgate/gw-1/readings/t1'));
      assert.deepEqual(t1[0], { topic: 'fieldgate/gw-1/readings/t1', sensor: 't1', seq: 1, ts: '2026-01-02T03:04:05.678Z', values: values(20) });
      const h2 = got.find((r) => r.sensor === 'h2');
      assert.equal(h2?.topic, 'fieldgate/gw-1/readings/h2');
      assert.deepEqual(h2?.values, { humidity: { value: 55, unit: '%' } });
      const status = cloud.messages.filter((m) => m.topic === 'fieldgate/gw-1/status').map((m) => JSON.parse(m.text) as Record<string, unknown>);
      assert.equal(status[0]?.online, true);
      assert.equal(status[0]?.version, '9.9.9-test');
      assert.equal(typeof status[0]?.bufferDepth, 'number');
      await waitFor(() => rig.buffer.stats(Date.now()).depth === 0, 'buffer depth 0 after PUBACKs');
      assert.equal(rig.uplink.status().state, 'connected');
      assert.equal(rig.uplink.status().readingsSent, 6);
      assert.match(await rig.metrics.metrics(), /fieldgate_uplink_readings_sent_total 6/);
    } finally {
      await rig.stop();
    }
    const offline = cloud.messages.filter((m) => m.topic === 'fieldgate/gw-1/status').map((m) => JSON.parse(m.text) as { online: boolean });
    assert.equal(offline.at(-1)?.online, false, 'a clean stop publishes the retained offline status');
  });

  it('batches readings of one sensor into one message up to maxReadings', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-batch' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-batch', cloud: { batch: { maxReadings: 50 } }, start: false });
    try {
      await Promise.all(Array.from({ length: 120 }, (_, i) => rig.buffer.append({ sensorId: 's', ts: 1_700_000_000_000 + i, values: values(i) })));
      await rig.uplink.start();
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', 'gw-batch').length >= 120 || undefined, '120 readings');
      const sizes = cloud.messages.filter((m) => m.topic === 'fieldgate/gw-batch/readings/s').map((m) => (JSON.parse(m.text) as { readings: unknown[] }).readings.length);
      assert.deepEqual(sizes, [50, 50, 20]);
      assert.deepEqual(readingsOf(cloud.messages, 'fieldgate', 'gw-batch').map((r) => r.seq), Array.from({ length: 120 }, (_, i) => i + 1));
    } finally {
      await rig.stop();
    }
  });

  it('refuses to deliver when gateway.id differs from the certificate CN, reports it, and keeps the readings', async () => {
    const rig = await startRig({ broker, pki, client: gw1, gatewayId: 'gw-other', start: false });
    try {
      await rig.buffer.append({ sensorId: 't1', ts: Date.now(), values: values(1) });
      await rig.uplink.start();
      const status = await waitFor(() => {
        const s = rig.uplink.status();
        return (s.errors['publish-not-authorized'] ?? 0) > 0 && s;
      }, 'the publish-not-authorized error');
      assert.match(status.lastError?.message ?? '', /not authorized \(0x87\)/);
      assert.match(status.lastError?.message ?? '', /CN \(here "gw-1"\)/);
      assert.match(status.lastError?.message ?? '', /gateway\.id/);
      assert.notEqual(status.state, 'connected');
      assert.equal(rig.buffer.stats(Date.now()).depth, 1, 'the reading stays buffered');
      assert.equal(readingsOf(cloud.messages, 'fieldgate', 'gw-other').length, 0);
      assert.match(await rig.metrics.metrics(), /fieldgate_uplink_errors_total\{kind="publish-not-authorized"\} [1-9]/);
      await assert.rejects(rig.uplink.reconnect(), (error: Error & { kind?: string }) => error.kind === 'publish-not-authorized');
    } finally {
      await rig.stop();
    }
  });

  it('speaks MQTT 3.1.1 when configured, and then refuses to send under a foreign CN (the broker could not say no)', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-v4' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-v4', cloud: { protocolVersion: 4 } });
    try {
      await rig.buffer.append({ sensorId: 'v', ts: Date.now(), values: values(4) });
      rig.uplink.wake();
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', 'gw-v4').length === 1 || undefined, 'the reading over MQTT 3.1.1');
    } finally {
      await rig.stop();
    }
    const mismatch = await startRig({ broker, pki, client: gw, gatewayId: 'gw-v4-other', cloud: { protocolVersion: 4 }, start: false });
    try {
      await mismatch.buffer.append({ sensorId: 'v', ts: Date.now(), values: values(5) });
      await mismatch.uplink.start();
      const status = await waitFor(() => (mismatch.uplink.status().errors['identity-mismatch'] ?? 0) > 0 && mismatch.uplink.status(), 'the identity-mismatch error');
      assert.match(status.lastError?.message ?? '', /CN "gw-v4" differs from gateway\.id "gw-v4-other"/);
      assert.equal(mismatch.buffer.stats(Date.now()).depth, 1, 'nothing was sent, nothing lost');
    } finally {
      await mismatch.stop();
    }
  });

  it('live-first sends the newest readings ahead of the backlog', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-live' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-live', cloud: { drainOrder: 'live-first', batch: { maxReadings: 3 }, inFlight: 1 }, start: false });
    try {
      for (let i = 0; i < 9; i++) await rig.buffer.append({ sensorId: 'l', ts: 1_700_000_000_000 + i, values: values(i) });
      await rig.uplink.start();
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', 'gw-live').length >= 9 || undefined, 'nine readings');
      const bySeqSets = cloud.messages
        .filter((m) => m.topic === 'fieldgate/gw-live/readings/l')
        .map((m) => (JSON.parse(m.text) as { readings: Array<{ seq: number }> }).readings.map((r) => r.seq).sort((a, b) => a - b));
      assert.deepEqual(bySeqSets, [[7, 8, 9], [4, 5, 6], [1, 2, 3]]);
    } finally {
      await rig.stop();
    }
  });

  it('caps the drain rate when configured; the flush command lifts the cap until the backlog is sent', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-rate' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-rate', cloud: { maxReadingsPerSecond: 20, batch: { maxReadings: 100 } }, start: false });
    try {
      for (let i = 0; i < 300; i++) await rig.buffer.append({ sensorId: 'r', ts: 1_700_000_000_000 + i, values: values(i) });
      await rig.uplink.start();
      const sizes = () => cloud.messages.filter((m) => m.topic === 'fieldgate/gw-rate/readings/r').map((m) => (JSON.parse(m.text) as { readings: unknown[] }).readings.length);
      await waitFor(() => sizes().reduce((a, b) => a + b, 0) >= 30 || undefined, 'the first capped readings');
      assert.ok(sizes().every((n) => n <= 20), `capped messages hold at most one second of the rate: ${sizes().join(',')}`);
      assert.ok(rig.buffer.stats(Date.now()).depth > 100, 'the cap holds the backlog back');
      await cloud.client.publishAsync('fieldgate/gw-rate/cmd/flush', '{}', { qos: 1 });
      await waitFor(() => rig.buffer.stats(Date.now()).depth === 0 || undefined, 'the flushed backlog');
      assert.ok(sizes().some((n) => n > 20), `after flush full batches go out: ${sizes().join(',')}`);
      assert.deepEqual(readingsOf(cloud.messages, 'fieldgate', 'gw-rate').map((r) => r.seq), Array.from({ length: 300 }, (_, i) => i + 1));
    } finally {
      await rig.stop();
    }
  });

  it('answers ping and flush commands and rejects unknown ones', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-cmd' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-cmd' });
    try {
      await waitFor(() => rig.uplink.status().state === 'connected', 'connected');
      const results = (): Array<Received & { body: Record<string, unknown> }> =>
        cloud.messages.filter((m) => m.topic.startsWith('fieldgate/gw-cmd/cmd-result/')).map((m) => ({ ...m, body: JSON.parse(m.text) as Record<string, unknown> }));
      await cloud.client.publishAsync('fieldgate/gw-cmd/cmd/ping', JSON.stringify({ id: 'p1' }), { qos: 1 });
      const ping = await waitFor(() => results().find((r) => r.body.id === 'p1'), 'the ping result');
      assert.equal(ping.topic, 'fieldgate/gw-cmd/cmd-result/ping');
      assert.equal(ping.body.ok, true);
      assert.equal((ping.body.result as { version: string }).version, '9.9.9-test');

      await cloud.client.publishAsync('fieldgate/gw-cmd/cmd/reboot', JSON.stringify({ id: 'r1' }), { qos: 1 });
      const unknown = await waitFor(() => results().find((r) => r.body.id === 'r1'), 'the reboot rejection');
      assert.equal(unknown.body.ok, false);
      assert.match(String(unknown.body.error), /unknown command "reboot"; known: ping, flush/);

      await cloud.client.publishAsync('fieldgate/gw-cmd/cmd/ping', JSON.stringify({ id: 'p2', extra: true }), { qos: 1 });
      const invalid = await waitFor(() => results().find((r) => r.body.id === 'p2'), 'the invalid ping rejection');
      assert.equal(invalid.body.ok, false);

      await cloud.client.publishAsync('fieldgate/gw-cmd/cmd/flush', JSON.stringify({ id: 'f1' }), {
        qos: 1,
        properties: { responseTopic: 'fieldgate/gw-cmd/replies/x', correlationData: Buffer.from('corr-1') },
      });
      const flush = await waitFor(() => cloud.messages.find((m) => m.topic === 'fieldgate/gw-cmd/replies/x'), 'the flush reply on the response topic');
      assert.equal((JSON.parse(flush.text) as { ok: boolean }).ok, true);

      // A Response Topic outside the gateway's own prefix, or with wildcards, is refused: the command
      // does not run and the rejection goes to the default result topic.
      for (const [id, responseTopic] of [
        ['rt1', 'fieldgate/gw-other/cmd/flush'],
        ['rt2', 'fieldgate/gw-cmd/replies/+'],
        ['rt3', 'fieldgate/gw-cmd/#'],
        ['rt4', 'elsewhere/x'],
        ['rt5', 'fieldgate/gw-cmd'],
      ] as const) {
        await cloud.client.publishAsync('fieldgate/gw-cmd/cmd/ping', JSON.stringify({ id }), { qos: 1, properties: { responseTopic, correlationData: Buffer.from(id) } });
        const refused = await waitFor(() => results().find((r) => r.body.id === id), `the rejection of response topic ${responseTopic}`);
        assert.equal(refused.topic, 'fieldgate/gw-cmd/cmd-result/ping');
        assert.equal(refused.body.ok, false);
        assert.equal(refused.body.result, undefined, 'the command did not run');
        assert.match(String(refused.body.error), /response topic ".*" refused: it must be a topic under "fieldgate\/gw-cmd\/" without wildcards/);
      }
    } finally {
      await rig.stop();
    }
  });

  it('offers control hooks: onControl, publishControl and reconnect() with fresh credentials', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-ctl' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-ctl' });
    try {
      const seen: string[] = [];
      rig.uplink.onControl('cert/issued', (payload) => void seen.push(payload.toString()));
      await waitFor(() => rig.uplink.status().state === 'connected', 'connected');
      await rig.uplink.publishControl('cert/csr', { csr: 'PEM' });
      await waitFor(() => cloud.messages.find((m) => m.topic === 'fieldgate/gw-ctl/cert/csr'), 'the control message at the cloud');
      await cloud.client.publishAsync('fieldgate/gw-ctl/cert/issued', 'CERT', { qos: 1 });
      await waitFor(() => seen.includes('CERT'), 'the control handler call');

      const rotated = await pki.issueClientCert({ cn: 'gw-ctl', days: 90 });
      rig.credentials.current = { ...rig.credentials.current, cert: rotated.certPem, key: rotated.keyPem };
      await rig.uplink.reconnect();
      assert.equal(rig.uplink.status().certificate?.validTo, new Date(new X509Certificate(rotated.certPem).validTo).toISOString());

      const otherCa = await createPki();
      const foreign = await otherCa.issueClientCert({ cn: 'gw-ctl' });
      await otherCa.cleanup();
      rig.credentials.current = { ...rig.credentials.current, cert: foreign.certPem, key: foreign.keyPem };
      await assert.rejects(rig.uplink.reconnect(), (error: Error & { kind?: string }) => error.kind === 'client-cert-rejected');
      rig.credentials.current = { ...rig.credentials.current, cert: rotated.certPem, key: rotated.keyPem };
      await rig.uplink.reconnect();
      assert.equal(rig.uplink.status().state, 'connected');
    } finally {
      await rig.stop();
    }
  });

  it('waits for the PUBACK of a control publish before it closes', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-close' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-close' });
    try {
      await waitFor(() => rig.uplink.status().state === 'connected', 'connected');
      // A stalled broker holds the PUBACK: the publish is pending when the close begins.
      broker.signal('SIGSTOP');
      let outcome: 'acknowledged' | Error | undefined;
      rig.uplink.publishControl('cert/csr', { csr: 'PEM' }).then(
        () => (outcome = 'acknowledged'),
        (error: Error) => (outcome = error),
      );
      const resume = setTimeout(() => broker.signal('SIGCONT'), 500);
      await rig.uplink.stop();
      clearTimeout(resume);
      assert.equal(outcome, 'acknowledged', 'stop() resolved only after the control publish was acknowledged');
      await waitFor(() => cloud.messages.find((m) => m.topic === 'fieldgate/gw-close/cert/csr'), 'the control message at the cloud');
      const lastStatus = () => cloud.messages.filter((m) => m.topic === 'fieldgate/gw-close/status').map((m) => JSON.parse(m.text) as { online: boolean }).at(-1);
      await waitFor(() => lastStatus()?.online === false, 'then the retained offline status');
    } finally {
      broker.signal('SIGCONT');
      await rig.stop();
    }
  });
});
