import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// mqtt.js's own packet encoder (a dependency of mqtt): the sizes must match what goes on the wire.
import { generate } from 'mqtt-packet';
import { maxPayloadBytes, publishPacketBytes } from '../../../main/uplink/packet-size.js';

function wireBytes(topic: string, payloadBytes: number, protocolVersion: 4 | 5, properties?: { contentType?: string }): number {
  return generate(
    { cmd: 'publish', topic, payload: Buffer.alloc(payloadBytes, 0x61), qos: 1, messageId: 1, dup: false, retain: false, ...(properties ? { properties } : {}) },
    { protocolVersion },
  ).length;
}

describe('PUBLISH packet size', () => {
  const topics = ['t', 'fieldgate/gw-1/readings/t1', `fieldgate/gw-ü/readings/${'s'.repeat(200)}`];
  // Around each Remaining Length varint boundary (127/128, 16383/16384, 2097151/2097152).
  const payloads = [0, 1, 90, 120, 126, 127, 128, 200, 16_300, 16_350, 16_384, 20_000, 2_097_100, 2_097_152];

  it('equals mqtt-packet generate() for MQTT 5 and 3.1.1, QoS 1, across varint boundaries', () => {
    for (const protocolVersion of [5, 4] as const) {
      for (const topic of topics) {
        for (const payload of payloads) {
          const shape = { topicBytes: Buffer.byteLength(topic), protocolVersion };
          assert.equal(publishPacketBytes(shape, payload), wireBytes(topic, payload, protocolVersion), `v${protocolVersion} topic ${topic.length} chars, payload ${payload}`);
        }
      }
    }
  });

  it('counts MQTT 5 properties with their length prefix', () => {
    const topic = 'fieldgate/gw-1/readings/t1';
    const properties = { contentType: 'application/json' };
    const propertiesBytes = 1 + 2 + properties.contentType.length; // identifier, string length, string
    assert.equal(publishPacketBytes({ topicBytes: topic.length, protocolVersion: 5, propertiesBytes }, 500), wireBytes(topic, 500, 5, properties));
  });

  it('maxPayloadBytes is the largest payload whose packet fits the limit exactly', () => {
    for (const protocolVersion of [5, 4] as const) {
      for (const topic of topics) {
        const shape = { topicBytes: Buffer.byteLength(topic), protocolVersion };
        for (const limit of [300, 8_192, 16_386, 16_387, 16_388, 65_536, 2_097_155, 2_097_156]) {
          const payload = maxPayloadBytes(shape, limit);
          assert.ok(wireBytes(topic, payload, protocolVersion) <= limit, `v${protocolVersion} limit ${limit}: payload ${payload} fits`);
          assert.ok(wireBytes(topic, payload + 1, protocolVersion) > limit, `v${protocolVersion} limit ${limit}: one byte more does not`);
        }
      }
    }
  });

  it('never exceeds the largest Remaining Length MQTT allows', () => {
    const topic = 'fieldgate/gw-1/readings/t1';
    // 268435455 = Remaining Length; minus topic (2 + 26), packet id (2) and the empty properties (1).
    assert.equal(maxPayloadBytes({ topicBytes: topic.length, protocolVersion: 5 }, 2 ** 32), 268_435_455 - 2 - 26 - 2 - 1);
  });

  it('is negative when not even an empty message fits', () => {
    assert.ok(maxPayloadBytes({ topicBytes: 100, protocolVersion: 5 }, 50) < 0);
  });
});
