import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IPublishPacket } from 'mqtt-packet';
import { startWireBroker, type WireBroker } from '../../helpers/wire-broker.js';
import { startRig, waitFor, type Rig } from './fixture.js';

const PAYLOAD_FORMAT_INVALID = 0x99;
const values = (n: number, unit = '°C') => ({ temperature: { value: n, unit } });

/** Readings in the broker's accepted PUBLISHes, as sensor:seq. */
function delivered(broker: WireBroker): string[] {
  return broker.accepted
    .filter((p) => p.topic.includes('/readings/'))
    .flatMap((p) => (JSON.parse(p.payload.toString()) as { readings: Array<{ sensor: string; seq: number }> }).readings.map((r) => `${r.sensor}:${r.seq}`));
}

function dropAlerts(broker: WireBroker): Array<Record<string, unknown>> {
  return broker.accepted
    .filter((p) => p.topic === 'fieldgate/gw-1/alerts')
    .map((p) => JSON.parse(p.payload.toString()) as Record<string, unknown>)
    .filter((a) => a.type === 'readings-dropped');
}

describe('uplink against a broker that answers PUBACK 0x99 (payload format invalid)', () => {
  let broker: WireBroker | undefined;
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.stop();
    await broker?.close();
    rig = undefined;
    broker = undefined;
  });

  /** Buffers `readings` first, so the first lease holds all of them. */
  const start = async (
    pubackReason: (packet: IPublishPacket, broker: WireBroker) => number | undefined,
    readings: (n: number) => string,
    extra: { disconnectReason?: (packet: IPublishPacket) => number | undefined; cloud?: Record<string, unknown> } = {},
  ) => {
    const wire = await startWireBroker({ pubackReason: (packet) => pubackReason(packet, wire), ...(extra.disconnectReason ? { disconnectReason: extra.disconnectReason } : {}) });
    broker = wire;
    rig = await startRig({ url: wire.url, gatewayId: 'gw-1', cloud: { allowInsecure: true, ...extra.cloud }, start: false });
    for (let i = 1; i <= 40; i++) await rig.buffer.append({ sensorId: 's', ts: 1_700_000_000_000 + i, values: values(i, readings(i)) });
    await rig.uplink.start();
    return { broker: wire, rig };
  };

  it('sets the refused reading aside after bounded refusals, on one connection, and the rest of its batch and the queue flow', async () => {
    const { broker, rig } = await start(
      (p) => (p.topic.includes('/readings/') && p.payload.includes('POISON') ? PAYLOAD_FORMAT_INVALID : 0),
      (i) => (i === 5 ? 'POISON' : '°C'),
    );
    await waitFor(() => dropAlerts(broker).length > 0 || undefined, 'the refused drop record');
    assert.deepEqual(
      dropAlerts(broker).map(({ sensor, reason, count, firstSeq, lastSeq }) => ({ sensor, reason, count, firstSeq, lastSeq })),
      [{ sensor: 's', reason: 'refused', count: 1, firstSeq: 5, lastSeq: 5 }],
    );
    await waitFor(() => rig.buffer.stats(Date.now()).depth === 0 || undefined, 'the buffer to empty');
    const seqs = new Set(delivered(broker));
    assert.deepEqual(
      Array.from({ length: 40 }, (_, i) => `s:${i + 1}`).filter((s) => !seqs.has(s)),
      ['s:5'],
      'every reading but the poison one arrived',
    );
    // One batch refusal, then three refusals of seq 5 alone.
    const refusedAlone = broker.refused.filter((r) => (JSON.parse(r.packet.payload.toString()) as { readings: unknown[] }).readings.length === 1);
    assert.equal(refusedAlone.length, 3);
    assert.equal(broker.refused.length, 4);
    assert.equal(broker.connects, 1, 'a content refusal does not drop the connection');
    assert.equal(broker.connectPackets[0]?.properties?.maximumPacketSize, 65_536, 'our own Maximum Packet Size is announced in CONNECT');
    assert.equal(rig.buffer.stats(Date.now()).drops.refused, 1);
    const alert = await waitFor(
      () => broker.accepted.filter((p) => p.topic === 'fieldgate/gw-1/alerts').map((p) => JSON.parse(p.payload.toString()) as Record<string, unknown>).find((a) => a.type === 'uplink-alert'),
      'the operator alert',
    );
    assert.equal(alert.kind, 'readings-refused');
    assert.match(String(alert.message), /payload format invalid \(0x99\)/);
    assert.equal(rig.uplink.status().errors['publish-rejected'], 4);
    assert.match(rig.uplink.status().lastError?.message ?? '', /payload format invalid \(0x99\)/);
  });

  it('a broker that closes with DISCONNECT 0x95 for a packet over its unannounced limit: packet-too-large, and the reading is set aside after 3 closes', async () => {
    const PACKET_TOO_LARGE = 0x95;
    const { broker, rig } = await start(
      () => 0,
      (i) => (i === 1 ? 'x'.repeat(10_000) : '°C'),
      { disconnectReason: (p) => (p.payload.length > 8_000 ? PACKET_TOO_LARGE : undefined), cloud: { batch: { maxBytes: 4_096 } } },
    );
    await waitFor(() => dropAlerts(broker).length > 0 || undefined, 'the refused drop record', 60_000);
    assert.deepEqual(
      dropAlerts(broker).map(({ reason, firstSeq, lastSeq }) => ({ reason, firstSeq, lastSeq })),
      [{ reason: 'refused', firstSeq: 1, lastSeq: 1 }],
    );
    await waitFor(() => rig.buffer.stats(Date.now()).depth === 0 || undefined, 'the buffer to empty');
    assert.deepEqual(new Set(delivered(broker)), new Set(Array.from({ length: 39 }, (_, i) => `s:${i + 2}`)));
    assert.equal(broker.refused.length, 4, 'seq 1: three closes without other readings accepted, one more try once they were, then never again');
    assert.equal(rig.uplink.status().errors['packet-too-large'], 4);
    assert.match(JSON.stringify(rig.uplink.status().errors), /packet-too-large/);
  });

  it('drops the connection as soon as the broker starts a packet over our Maximum Packet Size, without waiting for the rest', async () => {
    const { broker, rig } = await start(() => 0, () => '°C');
    await waitFor(() => rig.uplink.status().state === 'connected' || undefined, 'connected');
    // A PUBLISH announcing 10 MB (remaining length varint 0x80 0xad 0xe2 0x04), of which only the start is ever sent.
    broker.sendRaw(Buffer.concat([Buffer.from([0x30, 0x80, 0xad, 0xe2, 0x04, 0x00, 0x17]), Buffer.from('fieldgate/gw-1/cmd/ping'), Buffer.alloc(1_000)]));
    const error = await waitFor(() => ((rig.uplink.status().errors['packet-too-large'] ?? 0) > 0 ? (rig.uplink.status().lastError ?? undefined) : undefined), 'the dropped connection');
    assert.equal(error.kind, 'packet-too-large');
    assert.match(error.message, /sent a packet of 10000005 bytes, over the gateway's limit of 65536/);
  });

  it('a broker that refuses every reading gets none set aside: they stay buffered and the uplink reconnects with backoff', async () => {
    // The second connection gets no answers, so the first one's last error stays readable.
    const { broker, rig } = await start(
      (p, wire) => (!p.topic.includes('/readings/') ? 0 : wire.connects === 1 ? PAYLOAD_FORMAT_INVALID : undefined),
      () => '°C',
    );
    await waitFor(() => broker.connects >= 2 || undefined, 'a reconnect after too many held readings');
    await waitFor(() => rig.uplink.status().state === 'connected' || undefined, 'the second connection');
    const stats = rig.buffer.stats(Date.now());
    assert.equal(stats.depth, 40, 'nothing was dropped');
    assert.equal(stats.drops.refused, 0);
    assert.equal(dropAlerts(broker).length, 0);
    assert.equal(delivered(broker).length, 0);
    assert.equal(rig.uplink.status().lastError?.kind, 'publish-rejected');
    assert.match(rig.uplink.status().lastError?.message ?? '', /accepts no other readings either, so they stay buffered/);
  });
});
