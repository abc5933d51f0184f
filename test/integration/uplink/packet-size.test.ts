import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Measurement } from '../../../main/shared/reading.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { cloudSubscriber, readingsOf, startRig, waitFor } from './fixture.js';

/** A reading of about `bytes` wire bytes: `quantities` values with a long unit each. */
function bulkyValues(n: number, quantities: number): Record<string, Measurement> {
  const values: Record<string, Measurement> = {};
  for (let q = 0; q < quantities; q++) values[`quantity_${q}`] = { value: n + q / 100, unit: 'unit-padding-to-make-it-large' };
  return values;
}

const BROKER_LIMIT = 8_192;

interface DropAlert {
  type: string;
  sensor: string;
  reason: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
}

describe('uplink against a broker with max_packet_size 8192 (MQTT 5 Maximum Packet Size)', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let cloud: Awaited<ReturnType<typeof cloudSubscriber>>;

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki, extraConfig: [`max_packet_size ${BROKER_LIMIT}`] });
    cloud = await cloudSubscriber(broker, pki);
  });

  after(async () => {
    await cloud?.close();
    await broker?.cleanup();
    await pki?.cleanup();
  });

  const dropAlerts = (gatewayId: string): DropAlert[] =>
    cloud.messages
      .filter((m) => m.topic === `fieldgate/${gatewayId}/alerts`)
      .map((m) => JSON.parse(m.text) as DropAlert)
      .filter((a) => a.type === 'readings-dropped');

  it('delivers every reading with the default batch (100 readings / 64 KiB) when batches exceed the broker limit', async () => {
    const gatewayId = 'gw-small-packets';
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: gatewayId }), gatewayId });
    try {
      // About 400 bytes per reading: 100 readings are ~40 KB, five times the broker's limit.
      for (let i = 0; i < 300; i++) await rig.buffer.append({ sensorId: 'big', ts: 1_700_000_000_000 + i, values: bulkyValues(i, 8) });
      rig.uplink.wake();
      const wanted = Array.from({ length: 300 }, (_, i) => i + 1);
      await waitFor(
        () => new Set(readingsOf(cloud.messages, 'fieldgate', gatewayId).map((r) => r.seq)).size >= 300 || undefined,
        `all 300 seqs at the subscriber (broker log:\n${broker.log().slice(-2_000)})`,
      );
      const seqs = [...new Set(readingsOf(cloud.messages, 'fieldgate', gatewayId).map((r) => r.seq))].sort((a, b) => a - b);
      assert.deepEqual(seqs, wanted);
      await waitFor(() => rig.buffer.stats(Date.now()).depth === 0 || undefined, 'the buffer to empty');
      assert.equal(rig.buffer.stats(Date.now()).drops.refused, 0, 'nothing set aside');
      assert.deepEqual(rig.uplink.status().errors, {}, 'no connection was lost on the way');
    } finally {
      await rig.stop();
    }
  });

  it('MQTT 3.1.1 cannot learn the limit: with batch.maxBytes below it (as the README advises) everything arrives', async () => {
    const gatewayId = 'gw-small-v4';
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: gatewayId }), gatewayId, cloud: { protocolVersion: 4, batch: { maxBytes: 4_096 } } });
    try {
      for (let i = 0; i < 100; i++) await rig.buffer.append({ sensorId: 'big', ts: 1_700_000_000_000 + i, values: bulkyValues(i, 8) });
      rig.uplink.wake();
      await waitFor(() => rig.buffer.stats(Date.now()).depth === 0 || undefined, 'the buffer to empty');
      await waitFor(() => new Set(readingsOf(cloud.messages, 'fieldgate', gatewayId).map((r) => r.seq)).size >= 100 || undefined, 'all 100 seqs');
      assert.deepEqual(rig.uplink.status().errors, {});
    } finally {
      await rig.stop();
    }
  });

  it('sets a reading too large for the broker aside as a `refused` drop record on …/alerts, and the readings behind it flow', async () => {
    const gatewayId = 'gw-poison';
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: gatewayId }), gatewayId });
    try {
      // seq 1 alone is ~20 KB: it can never pass an 8192-byte broker. Under fifo it is leased first.
      await rig.buffer.append({ sensorId: 'p', ts: 1_700_000_000_000, values: bulkyValues(0, 400) });
      for (let i = 1; i <= 50; i++) await rig.buffer.append({ sensorId: 'p', ts: 1_700_000_000_000 + i, values: bulkyValues(i, 2) });
      for (let i = 0; i < 20; i++) await rig.buffer.append({ sensorId: 'q', ts: 1_700_000_000_000 + i, values: bulkyValues(i, 2) });
      rig.uplink.wake();
      await waitFor(() => dropAlerts(gatewayId).length > 0 || undefined, 'the refused drop record at the cloud');
      assert.deepEqual(
        dropAlerts(gatewayId).map(({ sensor, reason, count, firstSeq, lastSeq }) => ({ sensor, reason, count, firstSeq, lastSeq })),
        [{ sensor: 'p', reason: 'refused', count: 1, firstSeq: 1, lastSeq: 1 }],
      );
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', gatewayId).length >= 70 || undefined, 'the 70 readings behind the poison one');
      const delivered = readingsOf(cloud.messages, 'fieldgate', gatewayId);
      assert.deepEqual([...new Set(delivered.filter((r) => r.sensor === 'p').map((r) => r.seq))].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 2));
      assert.deepEqual([...new Set(delivered.filter((r) => r.sensor === 'q').map((r) => r.seq))].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      await waitFor(() => rig.buffer.stats(Date.now()).depth === 0 || undefined, 'the buffer to empty');
      assert.equal(rig.buffer.stats(Date.now()).drops.refused, 1);
      const alert = await waitFor(
        () =>
          cloud.messages
            .filter((m) => m.topic === `fieldgate/${gatewayId}/alerts`)
            .map((m) => JSON.parse(m.text) as Record<string, unknown>)
            .find((a) => a.type === 'uplink-alert'),
        'the operator alert',
      );
      assert.equal(alert.kind, 'readings-refused');
      assert.equal(alert.severity, 'warning');
      assert.match(String(alert.message), /set aside 1 reading\(s\) (of sensor "p" )?that the broker refuses every time \(it alone exceeds the broker's Maximum Packet Size \(8192 bytes\)\)/);
      const metrics = await rig.metrics.metrics();
      assert.match(metrics, /fieldgate_buffer_drops_total\{reason="refused"\} 1/);
    } finally {
      await rig.stop();
    }
  });
});
