import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReadPdu, parseReadPdu, type ReadRequest } from '../../../../main/sensors/modbus/pdu.js';

describe('Modbus read PDUs', () => {
  it('builds the request PDU of each read function', () => {
    assert.deepEqual(buildReadPdu({ unit: 1, fn: 0x01, address: 19, count: 19 }), Buffer.from('0100130013', 'hex'));
    assert.deepEqual(buildReadPdu({ unit: 1, fn: 0x04, address: 8, count: 1 }), Buffer.from('0400080001', 'hex'));
  });

  it('parses exceptions, and refuses a wrong function or byte count', () => {
    const request: ReadRequest = { unit: 1, fn: 0x02, address: 0, count: 9 };
    assert.deepEqual(parseReadPdu(Buffer.from([0x82, 0x02]), request), { kind: 'exception', code: 2, length: 2 });
    assert.equal(parseReadPdu(Buffer.from([0x03, 0x02, 0, 0]), request).kind, 'bad-frame');
    assert.equal(parseReadPdu(Buffer.from([0x02, 0x01, 0xff]), request).kind, 'bad-frame', '9 bits take 2 bytes');
    assert.deepEqual(parseReadPdu(Buffer.from([0x02, 0x02, 0xff, 0x01]), request), { kind: 'data', data: [1, 1, 1, 1, 1, 1, 1, 1, 1], length: 4 });
    assert.deepEqual(parseReadPdu(Buffer.from([0x02, 0x02, 0xff]), request), { kind: 'incomplete' });
  });

});
