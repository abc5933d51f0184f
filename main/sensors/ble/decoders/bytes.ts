import { DecodeError } from './types.js';

/** Parses hex with optional `0x`, spaces, colons or dashes between bytes. */
export function hexToBytes(text: string, what: string): Uint8Array {
  const clean = text.trim().replace(/^0x/i, '').replace(/[\s:-]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean)) {
    throw new DecodeError('malformed', `${what}: expected hex bytes, got "${text}"`);
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** `54:48:E6:8F:80:A5` (or without separators) → 6 bytes in display order. */
export function macToBytes(mac: string): Uint8Array {
  const bytes = hexToBytes(mac, 'MAC');
  if (bytes.length !== 6) throw new DecodeError('malformed', `MAC: expected 6 bytes such as 54:48:E6:8F:80:A5, got "${mac}"`);
  return bytes;
}

export function formatMac(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** Upper case with colons; throws DecodeError('malformed') for anything that is not 6 bytes. */
export function normalizeMac(mac: string): string {
  return formatMac(macToBytes(mac));
}

/** Throws DecodeError('truncated') unless `data` holds at least `length` bytes. */
export function requireLength(data: Uint8Array, length: number, what: string): void {
  if (data.length < length) throw new DecodeError('truncated', `${what}: needs ${length} bytes, got ${data.length}`);
}

export function dataView(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}
