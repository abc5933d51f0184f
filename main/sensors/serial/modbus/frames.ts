import { buildReadPdu, parseReadPdu, type ReadRequest } from '../../modbus/pdu.js';
import { hasValidCrc, withCrc } from './crc16.js';

export type ReadResponse =
  | { kind: 'incomplete' }
  | { kind: 'data'; data: number[] }
  | { kind: 'exception'; code: number }
  | { kind: 'bad-crc'; frame: Buffer }
  | { kind: 'bad-frame'; detail: string; frame: Buffer };

/** The RTU frame of a read request: slave address, PDU, CRC. */
export function buildReadRequest(request: ReadRequest): Buffer {
  return withCrc(Buffer.concat([Buffer.from([request.unit]), buildReadPdu(request)]));
}

/**
 * Parses the bytes received so far after sending `request`. Bytes before the first one carrying
 * the slave address are line noise and skipped. Returns `incomplete` until the frame the header
 * announces is complete, so it can be called again on every chunk. Pure.
 */
export function parseReadResponse(received: Buffer, request: ReadRequest): ReadResponse {
  const start = received.indexOf(request.unit);
  if (start === -1) return { kind: 'incomplete' };
  const bytes = received.subarray(start);
  const pdu = parseReadPdu(bytes.subarray(1), request);
  if (pdu.kind === 'incomplete') return pdu;
  const frame = Buffer.from(bytes.subarray(0, 1 + pdu.length));
  if (pdu.kind === 'bad-frame') return { kind: 'bad-frame', detail: pdu.detail, frame };
  if (bytes.length < frame.length + 2) return { kind: 'incomplete' };
  const withChecksum = Buffer.from(bytes.subarray(0, frame.length + 2));
  if (!hasValidCrc(withChecksum)) return { kind: 'bad-crc', frame: withChecksum };
  return pdu.kind === 'exception' ? { kind: 'exception', code: pdu.code } : { kind: 'data', data: pdu.data };
}
