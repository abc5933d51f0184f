import type { Values } from '../../../shared/reading.js';
import { round } from './bthome.js';
import { bytesToHex, dataView, requireLength } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

export const EDDYSTONE_UUID = '0000feaa-0000-1000-8000-00805f9b34fb';

const FRAME_UID = 0x00;
const FRAME_TLM = 0x20;
const TLM_PLAIN = 0x00;
const TEMPERATURE_NOT_SUPPORTED = -0x8000;

/** Decodes Eddystone-UID (presence, identity, tx power at 0 m) and unencrypted Eddystone-TLM (battery, temperature, uptime). */
export function decodeEddystone(data: Uint8Array): DecodedAdvertisement {
  requireLength(data, 1, 'Eddystone');
  const frameType = data[0] as number;
  if (frameType === FRAME_UID) return decodeUid(data);
  if (frameType === FRAME_TLM) return decodeTlm(data);
  throw new DecodeError('unknown-format', `Eddystone: frame type 0x${frameType.toString(16).padStart(2, '0')} is not UID (0x00) or TLM (0x20)`);
}

function decodeUid(data: Uint8Array): DecodedAdvertisement {
  // 2 reserved bytes may follow the instance; they are optional on air.
  requireLength(data, 18, 'Eddystone-UID');
  return {
    format: 'eddystone',
    encrypted: false,
    beaconId: `${bytesToHex(data.subarray(2, 12))}/${bytesToHex(data.subarray(12, 18))}`,
    values: { presence: { value: 1, unit: 'bool' }, tx_power: { value: dataView(data).getInt8(1), unit: 'dBm' } },
  };
}

function decodeTlm(data: Uint8Array): DecodedAdvertisement {
  requireLength(data, 2, 'Eddystone-TLM');
  if (data[1] !== TLM_PLAIN) throw new DecodeError('unknown-format', `Eddystone-TLM version ${data[1]} (encrypted TLM) is not supported`);
  requireLength(data, 14, 'Eddystone-TLM');
  const view = dataView(data);
  const values: Values = { presence: { value: 1, unit: 'bool' } };
  const millivolts = view.getUint16(2);
  if (millivolts !== 0) values.battery_voltage = { value: millivolts, unit: 'mV' };
  const temperature = view.getInt16(4);
  if (temperature !== TEMPERATURE_NOT_SUPPORTED) values.temperature = { value: round(temperature / 256), unit: '°C' };
  values.uptime = { value: round(view.getUint32(10) / 10), unit: 's' };
  return { format: 'eddystone', encrypted: false, values };
}
