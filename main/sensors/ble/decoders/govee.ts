import type { Values } from '../../../shared/reading.js';
import { round } from './bthome.js';
import { dataView, requireLength } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

/** H5072, H5074 and H5075 advertise under 0xEC88; H5101/H5102 under 0x0001 (with a `01 01` prefix); H5179 under 0x8801. */
export const GOVEE_COMPANY_IDS = { h507x: 0xec88, h510x: 0x0001, h5179: 0x8801 } as const;

const H5074_BYTES = 7;
/** The sign bit of the packed 24-bit temperature-and-humidity number. */
const PACKED_NEGATIVE = 0x800000;

/** Whether manufacturer data under `companyId` is one of the Govee formats decoded here. */
export function isGoveePayload(companyId: number, data: Uint8Array): boolean {
  if (companyId === GOVEE_COMPANY_IDS.h510x) return data[0] === 0x01 && data[1] === 0x01;
  return companyId === GOVEE_COMPANY_IDS.h507x || companyId === GOVEE_COMPANY_IDS.h5179;
}

/** Decodes Govee thermo-hygrometer manufacturer data (the bytes after the company id). */
export function decodeGovee(companyId: number, data: Uint8Array): DecodedAdvertisement {
  if (companyId === GOVEE_COMPANY_IDS.h5179) {
    requireLength(data, 9, 'Govee H5179');
    const view = dataView(data);
    return result({
      ...climate(view.getInt16(4, true) * 0.01, view.getUint16(6, true) * 0.01),
      battery: { value: view.getUint8(8), unit: '%' },
    });
  }
  if (companyId === GOVEE_COMPANY_IDS.h510x) {
    requireLength(data, 6, 'Govee H5101/H5102');
    return result({ ...packed(data.subarray(2, 5)), battery: { value: data[5] as number, unit: '%' } });
  }
  if (companyId !== GOVEE_COMPANY_IDS.h507x) {
    throw new DecodeError('unknown-format', `Govee: company id 0x${companyId.toString(16).padStart(4, '0')} is not a supported model`);
  }
  if (data.length === H5074_BYTES) {
    const view = dataView(data);
    return result({
      ...climate(view.getInt16(1, true) * 0.01, view.getUint16(3, true) * 0.01),
      battery: { value: view.getUint8(5), unit: '%' },
    });
  }
  // H5072/H5075: 6 bytes, sometimes followed by an Apple iBeacon record merged in by the stack.
  requireLength(data, 6, 'Govee H5072/H5075');
  return result({ ...packed(data.subarray(1, 4)), battery: { value: data[4] as number, unit: '%' } });
}

function result(values: Values): DecodedAdvertisement {
  return { format: 'govee', encrypted: false, values };
}

/** Temperature × 10 000 + humidity × 10 in 24 bits, big endian; the top bit marks a negative temperature. */
function packed(bytes: Uint8Array): Values {
  const raw = ((bytes[0] as number) << 16) | ((bytes[1] as number) << 8) | (bytes[2] as number);
  const magnitude = raw & ~PACKED_NEGATIVE;
  const temperature = Math.trunc(magnitude / 1000) / 10;
  return climate(raw & PACKED_NEGATIVE ? -temperature : temperature, (magnitude % 1000) / 10);
}

/** Out-of-range values (a sensor error) are left out rather than reported. */
function climate(temperature: number, humidity: number): Values {
  const values: Values = {};
  if (temperature >= -40 && temperature <= 100) values.temperature = { value: round(temperature), unit: '°C' };
  if (humidity >= 0 && humidity <= 100) values.humidity = { value: round(humidity), unit: '%' };
  return values;
}
