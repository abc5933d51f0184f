import type { Values } from '../../../shared/reading.js';
import { round } from './bthome.js';
import { dataView, formatMac, requireLength } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

export const QINGPING_UUID = '0000fdcd-0000-1000-8000-00805f9b34fb';

const HEADER_BYTES = 8;

type Reader = (data: DataView, values: Values) => void;

/** Qingping data types → exact length and reader (little endian). Unknown types are skipped by length. */
const TYPES: ReadonlyMap<number, { size: number; read: Reader }> = new Map<number, { size: number; read: Reader }>([
  [
    0x01,
    {
      size: 4,
      read: (d, v) => {
        v.temperature = { value: round(d.getInt16(0, true) * 0.1), unit: '°C' };
        v.humidity = { value: round(d.getUint16(2, true) * 0.1), unit: '%' };
      },
    },
  ],
  [0x02, { size: 1, read: (d, v) => void (v.battery = { value: d.getUint8(0), unit: '%' }) }],
  [0x07, { size: 2, read: (d, v) => void (v.pressure = { value: round(d.getUint16(0, true) * 0.1), unit: 'hPa' }) }],
  [0x09, { size: 4, read: (d, v) => void (v.illuminance = { value: d.getUint32(0, true), unit: 'lx' }) }],
  [
    0x12,
    {
      size: 4,
      read: (d, v) => {
        v.pm2_5 = { value: d.getUint16(0, true), unit: 'µg/m³' };
        v.pm10 = { value: d.getUint16(2, true), unit: 'µg/m³' };
      },
    },
  ],
  [0x13, { size: 2, read: (d, v) => void (v.co2 = { value: d.getUint16(0, true), unit: 'ppm' }) }],
]);

/** Decodes Qingping service data (0xFDCD): flags, device type, MAC (reversed), then type/length/value records. */
export function decodeQingping(data: Uint8Array): DecodedAdvertisement {
  requireLength(data, HEADER_BYTES, 'Qingping header');
  const values: Values = {};
  let offset = HEADER_BYTES;
  while (offset < data.length) {
    requireLength(data, offset + 2, `Qingping record header at byte ${offset}`);
    const type = data[offset] as number;
    const size = data[offset + 1] as number;
    const start = offset + 2;
    requireLength(data, start + size, `Qingping record 0x${type.toString(16).padStart(2, '0')} at byte ${offset}`);
    const known = TYPES.get(type);
    if (known) {
      if (size !== known.size) throw new DecodeError('malformed', `Qingping: record 0x${type.toString(16).padStart(2, '0')} has ${size} bytes, expected ${known.size}`);
      known.read(dataView(data.subarray(start, start + size)), values);
    }
    offset = start + size;
  }
  return { format: 'qingping', encrypted: false, values, payloadMac: formatMac(Uint8Array.from(data.subarray(2, 8)).reverse()) };
}
