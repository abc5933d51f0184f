const TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    table[n] = crc;
  }
  return table;
}

/** CRC-16/MODBUS (reflected polynomial 0xA001, initial 0xFFFF); sent low byte first. */
export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ (TABLE[(crc ^ byte) & 0xff] as number);
  return crc;
}

/** `bytes` followed by their CRC, low byte first, as a complete RTU frame. */
export function withCrc(bytes: Uint8Array): Buffer {
  const frame = Buffer.alloc(bytes.length + 2);
  frame.set(bytes);
  frame.writeUInt16LE(crc16Modbus(bytes), bytes.length);
  return frame;
}

/** True when the last two bytes are the CRC of the rest. */
export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const body = frame.subarray(0, frame.length - 2);
  const sent = (frame[frame.length - 2] as number) | ((frame[frame.length - 1] as number) << 8);
  return crc16Modbus(body) === sent;
}
