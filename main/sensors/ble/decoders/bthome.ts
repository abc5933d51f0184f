import type { Values } from '../../../shared/reading.js';
import { BTHOME_OBJECTS, BUTTON_EVENT, PACKET_ID, type BthomeObject } from './bthome-objects.js';
import { openBthomeFrame } from './bthome-crypto.js';
import { formatMac } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

export const BTHOME_UUID = '0000fcd2-0000-1000-8000-00805f9b34fb';

const INFO_ENCRYPTED = 0x01;
/** Device-info bit 1: the device's MAC (reversed) follows the info byte, e.g. for devices with random addresses. */
const INFO_MAC_INCLUDED = 0x02;
const MAC_BYTES = 6;
const SUPPORTED_VERSION = 2;

export interface BthomeKeying {
  /** Device MAC in display order; needed for the nonce of encrypted frames. */
  mac?: Uint8Array;
  bindKey?: Uint8Array;
}

/**
 * Decodes BTHome v2 service data (the value BlueZ keys by 0000fcd2-…; a leading `d2 fc` UUID
 * copy is tolerated since no valid device-info byte starts with 0xd2).
 */
export function decodeBthome(serviceData: Uint8Array, keying: BthomeKeying = {}): DecodedAdvertisement {
  const frame = serviceData[0] === 0xd2 && serviceData[1] === 0xfc ? serviceData.subarray(2) : serviceData;
  if (frame.length === 0) throw new DecodeError('truncated', 'BTHome: empty service data');
  const info = frame[0] as number;
  const version = info >> 5;
  if (version !== SUPPORTED_VERSION) {
    throw new DecodeError('unknown-format', `BTHome: device info byte 0x${hex(info)} announces version ${version}; only v2 is supported`);
  }
  let body = frame.subarray(1);
  let mac = keying.mac;
  let payloadMac: string | undefined;
  if (info & INFO_MAC_INCLUDED) {
    if (body.length < MAC_BYTES) throw new DecodeError('truncated', `BTHome: device info 0x${hex(info)} announces a MAC, but only ${body.length} bytes follow`);
    mac = Uint8Array.from(body.subarray(0, MAC_BYTES)).reverse();
    payloadMac = formatMac(mac);
    body = body.subarray(MAC_BYTES);
  }
  const withMac = payloadMac === undefined ? {} : { payloadMac };
  if ((info & INFO_ENCRYPTED) === 0) return { format: 'bthome-v2', encrypted: false, ...withMac, ...parseObjects(body) };
  if (!keying.bindKey) throw new DecodeError('key-required', 'BTHome: the frame is encrypted; a bind key is needed');
  if (!mac) throw new DecodeError('key-required', 'BTHome: the frame is encrypted; the device MAC is needed for the nonce');
  // The nonce uses the MAC in the payload when there is one (it is the device's own address).
  const { plaintext, counter } = openBthomeFrame(Uint8Array.from([info, ...body]), mac, keying.bindKey);
  return { format: 'bthome-v2', encrypted: true, counter, ...withMac, ...parseObjects(plaintext) };
}

function parseObjects(payload: Uint8Array): { values: Values; repeatId?: number } {
  const values: Values = {};
  let repeatId: number | undefined;
  let offset = 0;
  while (offset < payload.length) {
    const id = payload[offset] as number;
    const object = BTHOME_OBJECTS.get(id);
    // An unknown id has an unknown length: nothing after it can be read safely.
    if (!object) break;
    const { start, end } = objectBounds(payload, offset, object, id);
    if (id === PACKET_ID) repeatId = payload[start] as number;
    else if (object.quantity) addValue(values, object, readNumber(payload.subarray(start, end), object.signed === true), id);
    offset = end;
  }
  return repeatId === undefined ? { values } : { values, repeatId };
}

function objectBounds(payload: Uint8Array, offset: number, object: BthomeObject, id: number): { start: number; end: number } {
  let start = offset + 1;
  let size: number;
  if (object.size === 'prefixed') {
    if (start >= payload.length) throw truncated(id, offset);
    size = payload[start] as number;
    start += 1;
  } else {
    size = object.size;
  }
  const end = start + size;
  if (end > payload.length) throw truncated(id, offset);
  return { start, end };
}

function truncated(id: number, offset: number): DecodeError {
  return new DecodeError('truncated', `BTHome: object 0x${hex(id)} at byte ${offset} runs past the end of the payload`);
}

function addValue(values: Values, object: BthomeObject, raw: number, id: number): void {
  // Button event 0 means "no event": absent, not a number.
  if (id === BUTTON_EVENT && raw === 0) return;
  const base = object.quantity as string;
  let name = base;
  for (let n = 2; name in values; n++) name = `${base}_${n}`;
  values[name] = { value: round(raw * (object.factor ?? 1)), unit: object.unit ?? '' };
}

function readNumber(bytes: Uint8Array, signed: boolean): number {
  let value = 0;
  for (let i = bytes.length - 1; i >= 0; i--) value = value * 256 + (bytes[i] as number);
  const bits = bytes.length * 8;
  if (signed && value >= 2 ** (bits - 1)) value -= 2 ** bits;
  return value;
}

/** Scaled values such as 2506 × 0.01 are rounded to drop binary noise (25.060000000000002). */
export function round(value: number): number {
  return Number(value.toFixed(6));
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
