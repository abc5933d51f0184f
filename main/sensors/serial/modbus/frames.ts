import { hasValidCrc, withCrc } from './crc16.js';

export type ReadFunction = 0x03 | 0x04;

export const FUNCTION_FOR_TABLE = { holding: 0x03, input: 0x04 } as const satisfies Record<string, ReadFunction>;

/** Registers one read request may ask for (Modbus application protocol, 6.3/6.4). */
export const MAX_READ_REGISTERS = 125;

export interface ReadRequest {
  slave: number;
  fn: ReadFunction;
  address: number;
  count: number;
}

export type ReadResponse =
  | { kind: 'incomplete' }
  | { kind: 'registers'; registers: number[] }
  | { kind: 'exception'; code: number }
  | { kind: 'bad-crc'; frame: Buffer }
  | { kind: 'bad-frame'; detail: string; frame: Buffer };

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `exception ${code}`;
}

/** The 8-byte RTU frame for "read holding/input registers". */
export function buildReadRequest(request: ReadRequest): Buffer {
  const pdu = Buffer.alloc(6);
  pdu.writeUInt8(request.slave, 0);
  pdu.writeUInt8(request.fn, 1);
  pdu.writeUInt16BE(request.address, 2);
  pdu.writeUInt16BE(request.count, 4);
  return withCrc(pdu);
}

/**
 * Parses the bytes received so far after sending `request`. Bytes before the first one carrying
 * the slave address are line noise and skipped. Returns `incomplete` until the frame the header
 * announces is complete, so it can be called again on every chunk. Pure.
 */
export function parseReadResponse(received: Buffer, request: ReadRequest): ReadResponse {
  const start = received.indexOf(request.slave);
  if (start === -1 || received.length - start < 2) return { kind: 'incomplete' };
  const bytes = received.subarray(start);
  const fn = bytes[1] as number;
  if (fn === (request.fn | 0x80)) {
    if (bytes.length < 5) return { kind: 'incomplete' };
    const frame = Buffer.from(bytes.subarray(0, 5));
    return hasValidCrc(frame) ? { kind: 'exception', code: frame[2] as number } : { kind: 'bad-crc', frame };
  }
  if (fn !== request.fn) {
    return { kind: 'bad-frame', detail: `expected function ${request.fn}, got ${fn}`, frame: Buffer.from(bytes.subarray(0, 2)) };
  }
  if (bytes.length < 3) return { kind: 'incomplete' };
  const byteCount = bytes[2] as number;
  if (byteCount !== request.count * 2) {
    return { kind: 'bad-frame', detail: `expected ${request.count * 2} data bytes, header says ${byteCount}`, frame: Buffer.from(bytes.subarray(0, 3)) };
  }
  const length = 3 + byteCount + 2;
  if (bytes.length < length) return { kind: 'incomplete' };
  const frame = Buffer.from(bytes.subarray(0, length));
  if (!hasValidCrc(frame)) return { kind: 'bad-crc', frame };
  const registers: number[] = [];
  for (let i = 0; i < request.count; i++) registers.push(frame.readUInt16BE(3 + i * 2));
  return { kind: 'registers', registers };
}
