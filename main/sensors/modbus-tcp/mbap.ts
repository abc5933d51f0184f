import { buildReadPdu, type ReadRequest } from '../modbus/pdu.js';

/** MBAP header (Modbus messaging on TCP/IP, 3.1.3): transaction id, protocol id 0, length, unit id. */
const HEADER_BYTES = 7;
/** Longest PDU (253) plus the unit id byte the length field also counts. */
const MAX_LENGTH_FIELD = 254;

export type MbapFrame =
  | { kind: 'incomplete' }
  | { kind: 'frame'; transactionId: number; unit: number; pdu: Buffer; length: number }
  | { kind: 'bad-header'; detail: string; header: Buffer };

/** The ADU of a read request: MBAP header and PDU. */
export function buildReadAdu(transactionId: number, request: ReadRequest): Buffer {
  const pdu = buildReadPdu(request);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(transactionId, 0);
  header.writeUInt16BE(0, 2);
  header.writeUInt16BE(pdu.length + 1, 4);
  header.writeUInt8(request.unit, 6);
  return Buffer.concat([header, pdu]);
}

/**
 * The first ADU in the bytes received so far; `length` is how many bytes it took. A header with
 * a foreign protocol id or an impossible length means the stream is out of step (or not Modbus):
 * `bad-header`, and nothing after it can be trusted. Pure.
 */
export function takeFrame(received: Buffer): MbapFrame {
  if (received.length < HEADER_BYTES) return { kind: 'incomplete' };
  const header = Buffer.from(received.subarray(0, HEADER_BYTES));
  const protocol = received.readUInt16BE(2);
  const lengthField = received.readUInt16BE(4);
  if (protocol !== 0) return { kind: 'bad-header', detail: `protocol id ${protocol}, expected 0 (Modbus)`, header };
  if (lengthField < 2 || lengthField > MAX_LENGTH_FIELD) return { kind: 'bad-header', detail: `length ${lengthField}, expected 2-${MAX_LENGTH_FIELD}`, header };
  const length = HEADER_BYTES - 1 + lengthField;
  if (received.length < length) return { kind: 'incomplete' };
  return { kind: 'frame', transactionId: received.readUInt16BE(0), unit: received.readUInt8(6), pdu: Buffer.from(received.subarray(HEADER_BYTES, length)), length };
}
