import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReadAdu, takeFrame } from '../../../../main/sensors/modbus-tcp/mbap.js';
import { parseReadPdu } from '../../../../main/sensors/modbus/pdu.js';
import { everySplit } from '../serial/streams.js';

/** The response ADU of the Modbus TCP spec's style: transaction 0x0102, unit 17, registers 0x022B 0x0000 0x0064. */
const response = Buffer.from('0102000000091103060' + '22b00000064', 'hex');

/** Feeds chunks as the socket delivers them; returns every frame taken, in order. */
function framesOf(chunks: Buffer[]): ReturnType<typeof takeFrame>[] {
  let received = Buffer.alloc(0);
  const frames: ReturnType<typeof takeFrame>[] = [];
  for (const chunk of chunks) {
    received = Buffer.concat([received, chunk]);
    for (let frame = takeFrame(received); frame.kind !== 'incomplete'; frame = takeFrame(received)) {
      frames.push(frame);
      if (frame.kind !== 'frame') return frames;
      received = received.subarray(frame.length);
    }
  }
  return frames;
}

describe('Modbus TCP framing (MBAP)', () => {
  it('builds a read request ADU: transaction id, protocol 0, length, unit, PDU', () => {
    assert.deepEqual(buildReadAdu(0x0102, { unit: 17, fn: 0x03, address: 0x006b, count: 3 }), Buffer.from('010200000006110300 6b0003'.replace(/ /g, ''), 'hex'));
    assert.deepEqual(buildReadAdu(0xffff, { unit: 255, fn: 0x02, address: 0, count: 2000 }), Buffer.from('ffff00000006ff02000007d0', 'hex'));
  });

  it('takes a response split at every byte offset, and two responses in one chunk', () => {
    for (const chunks of everySplit(response)) {
      const frames = framesOf(chunks);
      assert.equal(frames.length, 1);
      const frame = frames[0];
      assert.ok(frame?.kind === 'frame');
      assert.deepEqual([frame.transactionId, frame.unit, frame.length], [0x0102, 17, response.length]);
      assert.deepEqual(parseReadPdu(frame.pdu, { unit: 17, fn: 0x03, address: 0x6b, count: 3 }), { kind: 'data', data: [0x022b, 0, 0x64], length: 8 });
    }
    assert.deepEqual(framesOf([Buffer.concat([response, response])]).map((f) => f.kind), ['frame', 'frame']);
  });

  it('refuses a foreign protocol id or an impossible length as out of step', () => {
    const foreign = Buffer.from(response);
    foreign.writeUInt16BE(1, 2);
    assert.equal(takeFrame(foreign).kind, 'bad-header');
    for (const length of [0, 1, 255, 0xffff]) {
      const bad = Buffer.from(response);
      bad.writeUInt16BE(length, 4);
      assert.equal(takeFrame(bad).kind, 'bad-header', `length ${length}`);
    }
  });

});
