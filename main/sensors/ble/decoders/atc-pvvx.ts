import { round } from './bthome.js';
import { dataView, formatMac } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

/** The Environmental Sensing service, which the pvvx and ATC1441 custom firmwares advertise under. */
export const ENVIRONMENTAL_SENSING_UUID = '0000181a-0000-1000-8000-00805f9b34fb';

const ATC1441_BYTES = 13;
const PVVX_BYTES = 15;
/** The lengths of the pvvx/ATC AES-CCM variants, which fieldgate does not open. */
const ENCRYPTED_LENGTHS = new Set([8, 11]);

/**
 * Decodes the custom-firmware formats of Xiaomi LYWSD03MMC-style thermometers (service 0x181A):
 * pvvx "custom" (15 bytes, little endian, MAC reversed) and ATC1441 (13 bytes, big endian).
 */
export function decodeAtcPvvx(data: Uint8Array): DecodedAdvertisement {
  if (data.length === PVVX_BYTES) return decodePvvx(data);
  if (data.length === ATC1441_BYTES) return decodeAtc1441(data);
  if (ENCRYPTED_LENGTHS.has(data.length)) {
    throw new DecodeError('unknown-format', 'pvvx/ATC: encrypted custom format is not supported; set the firmware to BTHome (encrypted BTHome is supported)');
  }
  if (data.length < ATC1441_BYTES) throw new DecodeError('truncated', `pvvx/ATC: ${data.length} bytes is shorter than the 13-byte ATC1441 format`);
  throw new DecodeError('unknown-format', `pvvx/ATC: ${data.length} bytes is neither ATC1441 (13) nor pvvx (15)`);
}

function decodePvvx(data: Uint8Array): DecodedAdvertisement {
  const view = dataView(data);
  return {
    format: 'pvvx',
    encrypted: false,
    payloadMac: formatMac(Uint8Array.from(data.subarray(0, 6)).reverse()),
    repeatId: view.getUint8(13),
    values: {
      temperature: { value: round(view.getInt16(6, true) * 0.01), unit: '°C' },
      humidity: { value: round(view.getUint16(8, true) * 0.01), unit: '%' },
      battery_voltage: { value: view.getUint16(10, true), unit: 'mV' },
      battery: { value: view.getUint8(12), unit: '%' },
    },
  };
}

function decodeAtc1441(data: Uint8Array): DecodedAdvertisement {
  const view = dataView(data);
  return {
    format: 'atc1441',
    encrypted: false,
    payloadMac: formatMac(data.subarray(0, 6)),
    repeatId: view.getUint8(12),
    values: {
      temperature: { value: round(view.getInt16(6) * 0.1), unit: '°C' },
      humidity: { value: view.getUint8(8), unit: '%' },
      battery: { value: view.getUint8(9), unit: '%' },
      battery_voltage: { value: view.getUint16(10), unit: 'mV' },
    },
  };
}
