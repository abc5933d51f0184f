import type { Values } from '../../../shared/reading.js';

export type BleFormat = 'bthome-v2' | 'ruuvi-df5' | 'ruuvi-df6';

export const BLE_FORMATS: readonly BleFormat[] = ['bthome-v2', 'ruuvi-df5', 'ruuvi-df6'];

/** What one advertisement payload says, in reading units. */
export interface DecodedAdvertisement {
  format: BleFormat;
  values: Values;
  encrypted: boolean;
  /** BTHome packet id or Ruuvi measurement sequence: a repeat of the previous one is the same measurement. */
  repeatId?: number;
  /** Encrypted BTHome frame counter (as a little-endian uint32). */
  counter?: number;
  /** The MAC carried inside the payload (Ruuvi), upper case with colons; DF6 carries only the low 3 bytes. */
  payloadMac?: string;
}

export type DecodeFailure = 'unknown-format' | 'truncated' | 'malformed' | 'key-required' | 'mic-failure';

/** A payload that cannot be decoded; `reason` is stable for metrics and tests, the message is for people. */
export class DecodeError extends Error {
  constructor(
    readonly reason: DecodeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}
