import type { Values } from '../../../shared/reading.js';
import { round } from './bthome.js';
import { requireLength } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

/** SwitchBot service data: the current UUID and the one older firmware uses. */
export const SWITCHBOT_UUIDS = ['0000fd3d-0000-1000-8000-00805f9b34fb', '00000d00-0000-1000-8000-00805f9b34fb'] as const;
export const SWITCHBOT_COMPANY_ID = 0x0969;

const METER = 0x54;
const METER_PLUS = 0x69;
const OUTDOOR_METER = 0x77;

/**
 * Decodes SwitchBot Meter ('T') and Meter Plus ('i') service data, and the Outdoor Meter ('w'),
 * whose temperature and humidity come in manufacturer data (company 0x0969) while the service
 * data holds the battery.
 */
export function decodeSwitchbot(serviceData: Uint8Array, manufacturerData: Uint8Array | undefined): DecodedAdvertisement {
  requireLength(serviceData, 1, 'SwitchBot service data');
  const model = (serviceData[0] as number) & 0x7f;
  if (model === METER || model === METER_PLUS) {
    requireLength(serviceData, 6, 'SwitchBot Meter');
    return result({ ...climate(serviceData.subarray(3, 6)), battery: battery(serviceData) });
  }
  if (model === OUTDOOR_METER) {
    requireLength(serviceData, 3, 'SwitchBot Outdoor Meter service data');
    if (!manufacturerData) throw new DecodeError('truncated', 'SwitchBot Outdoor Meter: its temperature comes in manufacturer data 0x0969, which is missing');
    requireLength(manufacturerData, 11, 'SwitchBot Outdoor Meter manufacturer data');
    return result({ ...climate(manufacturerData.subarray(8, 11)), battery: battery(serviceData) });
  }
  throw new DecodeError('unknown-format', `SwitchBot: device type 0x${model.toString(16)} is not a Meter, Meter Plus or Outdoor Meter`);
}

function result(values: Values): DecodedAdvertisement {
  return { format: 'switchbot', encrypted: false, values };
}

function battery(serviceData: Uint8Array): { value: number; unit: string } {
  return { value: (serviceData[2] as number) & 0x7f, unit: '%' };
}

/** Tenths in the low nibble of byte 0; whole degrees in byte 1 (bit 7 set = above zero); humidity in byte 2. */
function climate(bytes: Uint8Array): Values {
  const magnitude = ((bytes[1] as number) & 0x7f) + ((bytes[0] as number) & 0x0f) / 10;
  const positive = ((bytes[1] as number) & 0x80) !== 0;
  return {
    temperature: { value: round(positive ? magnitude : -magnitude), unit: '°C' },
    humidity: { value: (bytes[2] as number) & 0x7f, unit: '%' },
  };
}
