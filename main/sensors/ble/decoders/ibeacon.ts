import { bytesToHex, dataView, requireLength } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

export const APPLE_COMPANY_ID = 0x004c;

const IBEACON_TYPE = 0x02;
const IBEACON_LENGTH = 0x15;

/** Whether Apple manufacturer data is an iBeacon record (Apple sends other record types too). */
export function isIbeaconPayload(data: Uint8Array): boolean {
  return data[0] === IBEACON_TYPE && data[1] === IBEACON_LENGTH;
}

/** Decodes an iBeacon record: type 0x02, length 0x15, UUID (16), major, minor (big endian), measured power at 1 m. */
export function decodeIbeacon(data: Uint8Array): DecodedAdvertisement {
  requireLength(data, 2, 'iBeacon');
  if (!isIbeaconPayload(data)) throw new DecodeError('unknown-format', 'Apple manufacturer data is not an iBeacon record (02 15 …)');
  requireLength(data, 2 + IBEACON_LENGTH, 'iBeacon');
  const view = dataView(data);
  const uuid = bytesToHex(data.subarray(2, 18)).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  return {
    format: 'ibeacon',
    encrypted: false,
    beaconId: `${uuid}/${view.getUint16(18)}/${view.getUint16(20)}`,
    values: { presence: { value: 1, unit: 'bool' }, tx_power: { value: view.getInt8(22), unit: 'dBm' } },
  };
}
