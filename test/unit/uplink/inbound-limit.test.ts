import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate, type Packet } from 'mqtt-packet';
import { InboundPacketLimit } from '../../../main/uplink/inbound-limit.js';

const publish = (payloadBytes: number): Buffer =>
  generate({ cmd: 'publish', topic: 'fieldgate/gw-1/cmd/ping', payload: Buffer.alloc(payloadBytes), qos: 1, messageId: 7, dup: false, retain: false }, { protocolVersion: 5 });

/** A broker's stream: CONNACK, SUBACK, small and larger PUBLISHes, PINGRESP (every varint length 1 to 3 bytes). */
function stream(): { bytes: Buffer; sizes: number[] } {
  const packets: Packet[] = [
    { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { maximumPacketSize: 8192 } },
    { cmd: 'suback', messageId: 1, granted: [1] },
    { cmd: 'pingresp' },
  ];
  const parts = [...packets.map((p) => generate(p, { protocolVersion: 5 })), publish(10), publish(200), publish(20_000)];
  return { bytes: Buffer.concat(parts), sizes: parts.map((p) => p.length) };
}

describe('InboundPacketLimit', () => {
  it('passes a stream of packets within the limit, however it is split', () => {
    const { bytes, sizes } = stream();
    const limit = Math.max(...sizes);
    for (let cut = 0; cut <= bytes.length; cut += cut < 300 ? 1 : 97) {
      const guard = new InboundPacketLimit(limit);
      assert.equal(guard.feed(bytes.subarray(0, cut)), undefined, `cut at ${cut}`);
      assert.equal(guard.feed(bytes.subarray(cut)), undefined, `cut at ${cut}`);
    }
    const byteByByte = new InboundPacketLimit(limit);
    for (const byte of bytes) assert.equal(byteByByte.feed(Uint8Array.of(byte)), undefined);
  });

  it('reports the first packet over the limit from its header alone, wherever the header is split', () => {
    const { bytes } = stream();
    const big = publish(70_000);
    const header = big.subarray(0, 8); // fixed header, 3 length bytes, part of the topic
    for (let cut = 0; cut <= header.length; cut++) {
      const guard = new InboundPacketLimit(65_536);
      assert.equal(guard.feed(bytes), undefined);
      const first = guard.feed(header.subarray(0, cut));
      const reported = first ?? guard.feed(header.subarray(cut));
      assert.equal(reported, big.length, `header cut at ${cut}`);
    }
  });

  it('counts the whole packet against the limit: exactly at the limit passes, one byte more does not', () => {
    const packet = publish(1_000);
    assert.equal(new InboundPacketLimit(packet.length).feed(packet), undefined);
    assert.equal(new InboundPacketLimit(packet.length - 1).feed(packet), packet.length);
  });
});
