// Property tests for the Modbus parsers shared by RTU and TCP: read PDUs of all four read functions
// and MBAP headers, on random bytes: a typed result, never a throw, never more bytes than received.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { takeFrame } from '../../../main/sensors/modbus-tcp/mbap.js';
import { parseReadPdu, readsBits, type ReadRequest } from '../../../main/sensors/modbus/pdu.js';
import { fuzz, mutatedBytes } from './harness.js';

/** A correct response PDU to `request`, its data taken from `seed`. */
function validPdu(request: ReadRequest, seed: number): Uint8Array {
  const bytes = readsBits(request.fn) ? Math.ceil(request.count / 8) : request.count * 2;
  return Uint8Array.from([request.fn, bytes, ...Array.from({ length: bytes }, (_, i) => (seed + i * 31) & 0xff)]);
}

describe('fuzz: Modbus read PDUs and MBAP headers', () => {
  it('mutated responses and random bytes against any read request: a typed result with in-range data', () => {
    const request = fc.record({
      unit: fc.integer({ min: 0, max: 255 }),
      fn: fc.constantFrom(0x01 as const, 0x02 as const, 0x03 as const, 0x04 as const),
      address: fc.integer({ min: 0, max: 0xffff }),
      count: fc.integer({ min: 1, max: 125 }),
    });
    const scenario = request.chain((req) =>
      fc.tuple(fc.constant(req), fc.oneof(mutatedBytes(fc.nat(255).map((seed) => validPdu(req, seed))), fc.uint8Array({ maxLength: 260 }))),
    );
    fuzz(scenario, ([req, bytes]) => {
      const result = parseReadPdu(Buffer.from(bytes), req);
      if (result.kind === 'incomplete') return;
      assert.ok(result.length <= bytes.length);
      if (result.kind === 'data') {
        assert.equal(result.data.length, req.count);
        const max = req.fn <= 0x02 ? 1 : 0xffff;
        for (const value of result.data) assert.ok(Number.isInteger(value) && value >= 0 && value <= max);
      }
    });
  });

  it('MBAP: any bytes give a typed result that never claims more than was received', () => {
    fuzz(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const frame = takeFrame(Buffer.from(bytes));
      assert.ok(['incomplete', 'frame', 'bad-header'].includes(frame.kind));
      if (frame.kind === 'frame') {
        assert.ok(frame.length <= bytes.length && frame.length >= 8);
        assert.equal(frame.pdu.length, frame.length - 7);
      }
    });
  });
});
