import { createDecipheriv } from 'node:crypto';
import type { Values } from '../../../shared/reading.js';
import { BIND_KEY_BYTES } from './bthome-crypto.js';
import { round } from './bthome.js';
import { dataView, formatMac, requireLength } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

/** Xiaomi MiBeacon service data (Xiaomi's stock firmware: LYWSD03MMC, MHO-C401, CGG1, HHCCJCY01, …). */
export const MIBEACON_UUID = '0000fe95-0000-1000-8000-00805f9b34fb';

const FLAG_ENCRYPTED = 0x0008;
const FLAG_MAC = 0x0010;
const FLAG_CAPABILITY = 0x0020;
const FLAG_OBJECT = 0x0040;
const CAPABILITY_IO = 0x20;
const HEADER_BYTES = 5;
const EXT_COUNTER_BYTES = 3;
const MIC_BYTES = 4;
/** The associated data of MiBeacon v4/v5 AES-CCM frames. */
const AAD = Uint8Array.of(0x11);

export interface MiBeaconKeying {
  /** Device MAC in display order: the nonce needs it when the frame does not carry it. */
  mac?: Uint8Array;
  bindKey?: Uint8Array;
}

type ObjectReader = (data: DataView, values: Values) => void;

const value = (values: Values, quantity: string, raw: number, unit: string): void => {
  if (!Number.isFinite(raw)) throw new DecodeError('malformed', `MiBeacon: ${quantity} is not a number`);
  values[quantity] = { value: round(raw), unit };
};

/** MiBeacon object ids → exact length and reader (little endian throughout). */
const OBJECTS: ReadonlyMap<number, { size: number; read: ObjectReader }> = new Map([
  [0x1004, { size: 2, read: (d, v) => value(v, 'temperature', d.getInt16(0, true) * 0.1, '°C') }],
  [0x1006, { size: 2, read: (d, v) => value(v, 'humidity', d.getUint16(0, true) * 0.1, '%') }],
  [0x1007, { size: 3, read: (d, v) => value(v, 'illuminance', d.getUint16(0, true) + d.getUint8(2) * 0x10000, 'lx') }],
  [0x1008, { size: 1, read: (d, v) => value(v, 'moisture', d.getUint8(0), '%') }],
  [0x1009, { size: 2, read: (d, v) => value(v, 'conductivity', d.getUint16(0, true), 'µS/cm') }],
  [0x100a, { size: 1, read: (d, v) => value(v, 'battery', d.getUint8(0), '%') }],
  [
    0x100d,
    {
      size: 4,
      read: (d, v) => {
        value(v, 'temperature', d.getInt16(0, true) * 0.1, '°C');
        value(v, 'humidity', d.getUint16(2, true) * 0.1, '%');
      },
    },
  ],
  [0x1010, { size: 2, read: (d, v) => value(v, 'formaldehyde', d.getUint16(0, true) * 0.01, 'mg/m³') }],
  [0x4803, { size: 1, read: (d, v) => value(v, 'battery', d.getUint8(0), '%') }],
  [0x4c01, { size: 4, read: (d, v) => value(v, 'temperature', d.getFloat32(0, true), '°C') }],
  [0x4c02, { size: 1, read: (d, v) => value(v, 'humidity', d.getUint8(0), '%') }],
  [0x4c08, { size: 4, read: (d, v) => value(v, 'humidity', d.getFloat32(0, true), '%') }],
]);

/**
 * Decodes MiBeacon v2–v5 service data (the value BlueZ keys by 0000fe95-…). Encrypted v4/v5
 * frames are opened with the bind key (AES-128-CCM, 4-byte MIC, associated data 0x11); the
 * legacy v2/v3 encryption is refused. A frame without objects (the device's "I am here" frame)
 * decodes to no values.
 */
export function decodeMiBeacon(data: Uint8Array, keying: MiBeaconKeying = {}): DecodedAdvertisement {
  requireLength(data, HEADER_BYTES, 'MiBeacon header');
  const view = dataView(data);
  const control = view.getUint16(0, true);
  const version = control >> 12;
  if (version < 2 || version > 5) {
    throw new DecodeError('unknown-format', `MiBeacon: frame control 0x${control.toString(16).padStart(4, '0')} announces version ${version}; supported: 2 to 5`);
  }
  const frameCounter = data[4] as number;
  let offset = HEADER_BYTES;
  let macReversed: Uint8Array | undefined;
  if (control & FLAG_MAC) {
    requireLength(data, offset + 6, 'MiBeacon MAC');
    macReversed = data.subarray(offset, offset + 6);
    offset += 6;
  }
  if (control & FLAG_CAPABILITY) {
    requireLength(data, offset + 1, 'MiBeacon capability');
    const capability = data[offset] as number;
    offset += capability & CAPABILITY_IO ? 2 : 1;
    requireLength(data, offset, 'MiBeacon I/O capability');
  }
  const result: DecodedAdvertisement = { format: 'mibeacon', encrypted: false, values: {} };
  if (macReversed) result.payloadMac = formatMac(Uint8Array.from(macReversed).reverse());
  if (!(control & FLAG_OBJECT)) return result;
  if (!(control & FLAG_ENCRYPTED)) {
    result.values = parseObjects(data.subarray(offset));
    result.repeatId = frameCounter;
    return result;
  }
  if (version < 4) {
    throw new DecodeError('unknown-format', `MiBeacon v${version} legacy encryption is not supported (only v4/v5 AES-CCM frames)`);
  }
  if (!keying.bindKey) throw new DecodeError('key-required', 'MiBeacon: the frame is encrypted; a bind key is needed');
  const nonceMac = macReversed ?? (keying.mac ? Uint8Array.from(keying.mac).reverse() : undefined);
  if (!nonceMac) throw new DecodeError('key-required', 'MiBeacon: the frame is encrypted and does not carry the MAC; the device MAC is needed for the nonce');
  const sealed = data.subarray(offset);
  requireLength(sealed, 1 + EXT_COUNTER_BYTES + MIC_BYTES, 'MiBeacon encrypted payload');
  const micStart = sealed.length - MIC_BYTES;
  const extStart = micStart - EXT_COUNTER_BYTES;
  const extCounter = sealed.subarray(extStart, micStart);
  const plaintext = openMiBeacon({
    ciphertext: sealed.subarray(0, extStart),
    mic: sealed.subarray(micStart),
    nonce: Uint8Array.from([...nonceMac, ...data.subarray(2, 5), ...extCounter]),
    bindKey: keying.bindKey,
  });
  const ext = (extCounter[0] as number) | ((extCounter[1] as number) << 8) | ((extCounter[2] as number) << 16);
  return { ...result, encrypted: true, values: parseObjects(plaintext), counter: ext * 256 + frameCounter };
}

function openMiBeacon(parts: { ciphertext: Uint8Array; mic: Uint8Array; nonce: Uint8Array; bindKey: Uint8Array }): Uint8Array {
  if (parts.bindKey.length !== BIND_KEY_BYTES) {
    throw new DecodeError('malformed', `bind key: expected ${BIND_KEY_BYTES} bytes (32 hex digits), got ${parts.bindKey.length}`);
  }
  const decipher = createDecipheriv('aes-128-ccm', parts.bindKey, parts.nonce, { authTagLength: MIC_BYTES });
  decipher.setAuthTag(parts.mic);
  decipher.setAAD(AAD, { plaintextLength: parts.ciphertext.length });
  const plaintext = decipher.update(parts.ciphertext);
  try {
    decipher.final();
  } catch {
    throw new DecodeError('mic-failure', 'MiBeacon: MIC check failed: wrong bind key, wrong MAC, or a corrupted frame');
  }
  return Uint8Array.from(plaintext);
}

/** Objects are `id (2) | length (1) | data`; unknown ids are skipped by their length. */
function parseObjects(payload: Uint8Array): Values {
  const values: Values = {};
  let offset = 0;
  while (offset < payload.length) {
    requireLength(payload, offset + 3, `MiBeacon object header at byte ${offset}`);
    const id = (payload[offset] as number) | ((payload[offset + 1] as number) << 8);
    const size = payload[offset + 2] as number;
    const start = offset + 3;
    requireLength(payload, start + size, `MiBeacon object 0x${id.toString(16).padStart(4, '0')} at byte ${offset}`);
    const object = OBJECTS.get(id);
    if (object) {
      if (size !== object.size) {
        throw new DecodeError('malformed', `MiBeacon: object 0x${id.toString(16).padStart(4, '0')} has ${size} bytes, expected ${object.size}`);
      }
      object.read(dataView(payload.subarray(start, start + size)), values);
    }
    offset = start + size;
  }
  return values;
}
