/** Modbus read functions (application protocol 6.1-6.4): coils, discrete inputs, holding and input registers. */
export type ReadFunction = 0x01 | 0x02 | 0x03 | 0x04;

export type ModbusTable = 'coil' | 'discrete' | 'holding' | 'input';

export const FUNCTION_FOR_TABLE = { coil: 0x01, discrete: 0x02, holding: 0x03, input: 0x04 } as const satisfies Record<ModbusTable, ReadFunction>;

/** True for the functions that read single bits (coils, discrete inputs). */
export function readsBits(fn: ReadFunction): boolean {
  return fn === 0x01 || fn === 0x02;
}

/** Bits (2000) or registers (125) one read request may ask for. */
export function maxReadCount(fn: ReadFunction): number {
  return readsBits(fn) ? 2000 : 125;
}

/** One read request of one device: `unit` is the RTU slave address or the TCP unit identifier. */
export interface ReadRequest {
  unit: number;
  fn: ReadFunction;
  address: number;
  count: number;
}

/**
 * A response PDU, parsed against the request it answers. `data` holds one entry per register
 * (0-65535) or per bit (0 or 1). `length` is how many bytes of the input the PDU took.
 */
export type PduResult =
  | { kind: 'incomplete' }
  | { kind: 'data'; data: number[]; length: number }
  | { kind: 'exception'; code: number; length: number }
  | { kind: 'bad-frame'; detail: string; length: number };

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

/** The 5-byte request PDU: function, start address, quantity. */
export function buildReadPdu(request: ReadRequest): Buffer {
  const pdu = Buffer.alloc(5);
  pdu.writeUInt8(request.fn, 0);
  pdu.writeUInt16BE(request.address, 1);
  pdu.writeUInt16BE(request.count, 3);
  return pdu;
}

function dataBytes(request: ReadRequest): number {
  return readsBits(request.fn) ? Math.ceil(request.count / 8) : request.count * 2;
}

/**
 * Parses the response PDU at the start of `pdu` (function code first). Returns `incomplete` while
 * fewer bytes than the header announces are there, so framings that learn the length from the
 * PDU itself (RTU) can call it on every chunk. Pure.
 */
export function parseReadPdu(pdu: Buffer, request: ReadRequest): PduResult {
  if (pdu.length < 1) return { kind: 'incomplete' };
  const fn = pdu[0] as number;
  if (fn === (request.fn | 0x80)) {
    if (pdu.length < 2) return { kind: 'incomplete' };
    return { kind: 'exception', code: pdu[1] as number, length: 2 };
  }
  if (fn !== request.fn) return { kind: 'bad-frame', detail: `expected function ${request.fn}, got ${fn}`, length: 1 };
  if (pdu.length < 2) return { kind: 'incomplete' };
  const byteCount = pdu[1] as number;
  const expected = dataBytes(request);
  if (byteCount !== expected) return { kind: 'bad-frame', detail: `expected ${expected} data bytes, header says ${byteCount}`, length: 2 };
  const length = 2 + byteCount;
  if (pdu.length < length) return { kind: 'incomplete' };
  const data: number[] = [];
  for (let i = 0; i < request.count; i++) {
    data.push(readsBits(request.fn) ? ((pdu[2 + (i >> 3)] as number) >> (i & 7)) & 1 : pdu.readUInt16BE(2 + i * 2));
  }
  return { kind: 'data', data, length };
}
