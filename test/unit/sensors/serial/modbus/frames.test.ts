import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc16Modbus, hasValidCrc, withCrc } from '../../../../../main/sensors/serial/modbus/crc16.js';
import { buildReadRequest, parseReadResponse, type ReadRequest } from '../../../../../main/sensors/serial/modbus/frames.js';
import { everySplit } from '../streams.js';

const request: ReadRequest = { slave: 17, fn: 0x03, address: 0x006b, count: 3 };
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
    assert.deepEqual(buildReadRequest({ slave: 1, fn: 0x04, address: 0, count: 1 }), Buffer.from('01040000000131ca', 'hex'));
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
    for (const chunks of everySplit(reply)) assert.deepEqual(feed(chunks), { kind: 'registers', registers: [0x022b, 0, 0x64] });
    assert.deepEqual(feed([...reply].map((b) => Buffer.from([b]))), { kind: 'registers', registers: [0x022b, 0, 0x64] });
  });

  it('stays incomplete until the whole frame is there', () => {
    for (let length = 0; length < reply.length; length++) {
      assert.deepEqual(parseReadResponse(reply.subarray(0, length), request), { kind: 'incomplete' });
    }
  });

  it('skips line noise before the slave address', () => {
    assert.equal(feed([Buffer.from([0x00, 0xff, 0x55]), reply]).kind, 'registers');
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
});
