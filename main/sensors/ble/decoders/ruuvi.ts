import type { Values } from '../../../shared/reading.js';
import { round } from './bthome.js';
import { formatMac } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

export const RUUVI_COMPANY_ID = 0x0499;

const DF5_LENGTH = 24;
const DF6_LENGTH = 20;
const INT16_NOT_AVAILABLE = -0x8000;
const UINT16_NOT_AVAILABLE = 0xffff;
const LUX_MAX = 65535;
const LUX_MAX_CODE = 254;

/** Decodes Ruuvi manufacturer data (company 0x0499); the payload starts at the format byte. */
export function decodeRuuvi(payload: Uint8Array): DecodedAdvertisement {
  if (payload.length === 0) throw new DecodeError('truncated', 'Ruuvi: empty manufacturer data');
  const format = payload[0] as number;
  if (format === 5) return decodeDf5(view(payload, DF5_LENGTH, 5));
  if (format === 6) return decodeDf6(view(payload, DF6_LENGTH, 6));
  throw new DecodeError('unknown-format', `Ruuvi: data format 0x${format.toString(16).padStart(2, '0')} is not supported (supported: 5, 6)`);
}

function view(payload: Uint8Array, length: number, format: number): DataView {
  if (payload.length < length) {
    throw new DecodeError('truncated', `Ruuvi: data format ${format} needs ${length} bytes, got ${payload.length}`);
  }
  return new DataView(payload.buffer, payload.byteOffset, length);
}

class ValueCollector {
  readonly values: Values = {};

  /** Adds `raw × factor + offset` unless `raw` is the field's "not available" marker. */
  add(quantity: string, raw: number, notAvailable: number, unit: string, factor = 1, offset = 0): void {
    if (raw === notAvailable) return;
    this.values[quantity] = { value: round(raw * factor + offset), unit };
  }
}

function decodeDf5(data: DataView): DecodedAdvertisement {
  const out = new ValueCollector();
  out.add('temperature', data.getInt16(1), INT16_NOT_AVAILABLE, '°C', 0.005);
  out.add('humidity', data.getUint16(3), UINT16_NOT_AVAILABLE, '%', 0.0025);
  out.add('pressure', data.getUint16(5), UINT16_NOT_AVAILABLE, 'Pa', 1, 50_000);
  out.add('acceleration_x', data.getInt16(7), INT16_NOT_AVAILABLE, 'g', 0.001);
  out.add('acceleration_y', data.getInt16(9), INT16_NOT_AVAILABLE, 'g', 0.001);
  out.add('acceleration_z', data.getInt16(11), INT16_NOT_AVAILABLE, 'g', 0.001);
  const power = data.getUint16(13);
  out.add('battery_voltage', power >> 5, 0x7ff, 'mV', 1, 1600);
  out.add('tx_power', power & 0x1f, 0x1f, 'dBm', 2, -40);
  out.add('movement_counter', data.getUint8(15), 0xff, '');
  const sequence = data.getUint16(16);
  const result: DecodedAdvertisement = { format: 'ruuvi-df5', encrypted: false, values: out.values };
  if (sequence !== UINT16_NOT_AVAILABLE) result.repeatId = sequence;
  const mac = macAt(data, 18, 6);
  if (mac) result.payloadMac = mac;
  return result;
}

function decodeDf6(data: DataView): DecodedAdvertisement {
  const out = new ValueCollector();
  const flags = data.getUint8(16);
  out.add('temperature', data.getInt16(1), INT16_NOT_AVAILABLE, '°C', 0.005);
  out.add('humidity', data.getUint16(3), UINT16_NOT_AVAILABLE, '%', 0.0025);
  out.add('pressure', data.getUint16(5), UINT16_NOT_AVAILABLE, 'Pa', 1, 50_000);
  out.add('pm2_5', data.getUint16(7), UINT16_NOT_AVAILABLE, 'µg/m³', 0.1);
  out.add('co2', data.getUint16(9), UINT16_NOT_AVAILABLE, 'ppm');
  // VOC and NOx are 9-bit: high 8 bits in their own byte, the lowest bit in flags b6 and b7.
  out.add('voc_index', (data.getUint8(11) << 1) | ((flags >> 6) & 1), 0x1ff, '');
  out.add('nox_index', (data.getUint8(12) << 1) | ((flags >> 7) & 1), 0x1ff, '');
  const luxCode = data.getUint8(13);
  if (luxCode !== 0xff) {
    const lux = Math.exp((luxCode * Math.log(LUX_MAX + 1)) / LUX_MAX_CODE) - 1;
    out.values.illuminance = { value: Math.round(lux * 100) / 100, unit: 'lx' };
  }
  const result: DecodedAdvertisement = { format: 'ruuvi-df6', encrypted: false, values: out.values, repeatId: data.getUint8(15) };
  const mac = macAt(data, 17, 3);
  if (mac) result.payloadMac = mac;
  return result;
}

/** All bits set means "not available". */
function macAt(data: DataView, offset: number, length: number): string | undefined {
  const bytes = new Uint8Array(data.buffer, data.byteOffset + offset, length);
  return bytes.every((b) => b === 0xff) ? undefined : formatMac(bytes);
}
