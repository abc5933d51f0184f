import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadRequest } from '../../../../../main/sensors/modbus/pdu.js';
import { crc16Modbus, hasValidCrc, withCrc } from '../../../../../main/sensors/serial/modbus/crc16.js';
import { buildReadRequest, parseReadResponse } from '../../../../../main/sensors/serial/modbus/frames.js';
import { everySplit } from '../streams.js';

const request: ReadRequest = { unit: 17, fn: 0x03, address: 0x006b, count: 3 };
/** The reply from the Modbus spec's example (read holding registers 108-110 of slave 17). */
const reply = withCrc(Buffer.from([0x11, 0x03, 0x06, 0x02, 0x2b, 0x00, 0x00, 0x00, 0x64]));

/** Feeds `chunks` one at a time as the poller does; returns the first non-incomplete result. */
function feed(chunks: Buffer[], req = request): ReturnType<typeof parseReadResponse> {
  let received = Buffer.alloc(0);
  for (const chunk of chunks) {
    received = Buffer.concat([received, chunk]);
    const result = parseReadResponse(received, req);
    if (result.kind !== 'incomplete') return result;
  }
  return { kind: 'incomplete' };
}

describe('Modbus RTU CRC-16', () => {
  it('matches the known answers', () => {
    assert.equal(crc16Modbus(Buffer.from('123456789')), 0x4b37);
    assert.deepEqual(withCrc(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a])), Buffer.from('01030000000ac5cd', 'hex'));
    assert.deepEqual(buildReadRequest({ unit: 1, fn: 0x04, address: 0, count: 1 }), Buffer.from('01040000000131ca', 'hex'));
  });

  it('detects any single flipped bit', () => {
    assert.ok(hasValidCrc(reply));
    for (let bit = 0; bit < reply.length * 8; bit++) {
      const tampered = Buffer.from(reply);
      tampered[bit >> 3] = (tampered[bit >> 3] as number) ^ (1 << (bit & 7));
      assert.equal(hasValidCrc(tampered), false, `bit ${bit}`);
    }
  });
});

describe('Modbus RTU response parser', () => {
  it('decodes a read response split at every byte offset, and byte by byte', () => {
    for (const chunks of everySplit(reply)) assert.deepEqual(feed(chunks), { kind: 'data', data: [0x022b, 0, 0x64] });
    assert.deepEqual(feed([...reply].map((b) => Buffer.from([b]))), { kind: 'data', data: [0x022b, 0, 0x64] });
  });

  it('stays incomplete until the whole frame is there', () => {
    for (let length = 0; length < reply.length; length++) {
      assert.deepEqual(parseReadResponse(reply.subarray(0, length), request), { kind: 'incomplete' });
    }
  });

  it('skips line noise before the slave address', () => {
    assert.equal(feed([Buffer.from([0x00, 0xff, 0x55]), reply]).kind, 'data');
  });

  it('reports exception responses with their code, at every split offset', () => {
    const exception = withCrc(Buffer.from([0x11, 0x83, 0x02]));
    for (const chunks of everySplit(exception)) assert.deepEqual(feed(chunks), { kind: 'exception', code: 2 });
  });

  it('reports a bad CRC on data and on exception frames', () => {
    const corrupted = Buffer.from(reply);
    corrupted[4] = 0x99;
    assert.equal(feed([corrupted]).kind, 'bad-crc');
    const exception = withCrc(Buffer.from([0x11, 0x83, 0x02]));
    exception[4] = (exception[4] as number) ^ 0xff;
    assert.equal(feed([exception]).kind, 'bad-crc');
  });

  it('reports frames that do not answer the request', () => {
    assert.equal(feed([withCrc(Buffer.from([0x11, 0x04, 0x02, 0x00, 0x01]))]).kind, 'bad-frame');
    assert.equal(feed([withCrc(Buffer.from([0x11, 0x03, 0x02, 0x00, 0x01]))]).kind, 'bad-frame');
  });

  it('decodes coils and discrete inputs bit by bit, low bit first, at every split offset', () => {
    // The spec's example (6.1): coils 20-38 of slave 17 read as CD 6B 05.
    const coils: ReadRequest = { unit: 17, fn: 0x01, address: 19, count: 19 };
    assert.deepEqual(buildReadRequest(coils), withCrc(Buffer.from([0x11, 0x01, 0x00, 0x13, 0x00, 0x13])));
    const coilReply = withCrc(Buffer.from([0x11, 0x01, 0x03, 0xcd, 0x6b, 0x05]));
    const expected = [1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1];
    for (const chunks of everySplit(coilReply)) assert.deepEqual(feed(chunks, coils), { kind: 'data', data: expected });
    // 6.2: discrete inputs 197-218 of slave 17 read as AC DB 35.
    const inputs: ReadRequest = { unit: 17, fn: 0x02, address: 196, count: 22 };
    const inputReply = withCrc(Buffer.from([0x11, 0x02, 0x03, 0xac, 0xdb, 0x35]));
    assert.deepEqual(feed([inputReply], inputs), { kind: 'data', data: [0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1] });
    assert.equal(feed([withCrc(Buffer.from([0x11, 0x01, 0x02, 0xcd, 0x6b]))], coils).kind, 'bad-frame', '19 coils take 3 bytes');
  });
});
