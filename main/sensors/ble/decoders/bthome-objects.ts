/**
 * BTHome v2 object ids (https://bthome.io/format). `size` is the byte length after the id;
 * `size: 'prefixed'` means the first byte holds the length of what follows. Objects without
 * `quantity` are skipped (their length is known, so parsing can continue past them).
 */
export interface BthomeObject {
  size: number | 'prefixed';
  signed?: boolean;
  quantity?: string;
  factor?: number;
  unit?: string;
}

const binary = (quantity: string): BthomeObject => ({ size: 1, quantity, unit: 'bool' });

export const PACKET_ID = 0x00;
export const BUTTON_EVENT = 0x3a;

export const BTHOME_OBJECTS: ReadonlyMap<number, BthomeObject> = new Map<number, BthomeObject>([
  [0x00, { size: 1 }],
  [0x01, { size: 1, quantity: 'battery', factor: 1, unit: '%' }],
  [0x02, { size: 2, signed: true, quantity: 'temperature', factor: 0.01, unit: '°C' }],
  [0x03, { size: 2, quantity: 'humidity', factor: 0.01, unit: '%' }],
  [0x04, { size: 3, quantity: 'pressure', factor: 0.01, unit: 'hPa' }],
  [0x05, { size: 3, quantity: 'illuminance', factor: 0.01, unit: 'lx' }],
  [0x06, { size: 2, quantity: 'mass', factor: 0.01, unit: 'kg' }],
  [0x07, { size: 2, quantity: 'mass', factor: 0.01, unit: 'lb' }],
  [0x08, { size: 2, signed: true, quantity: 'dewpoint', factor: 0.01, unit: '°C' }],
  [0x09, { size: 1, quantity: 'count', factor: 1, unit: '' }],
  [0x0a, { size: 3, quantity: 'energy', factor: 0.001, unit: 'kWh' }],
  [0x0b, { size: 3, quantity: 'power', factor: 0.01, unit: 'W' }],
  [0x0c, { size: 2, quantity: 'voltage', factor: 0.001, unit: 'V' }],
  [0x0d, { size: 2, quantity: 'pm2_5', factor: 1, unit: 'µg/m³' }],
  [0x0e, { size: 2, quantity: 'pm10', factor: 1, unit: 'µg/m³' }],
  [0x0f, binary('generic')],
  [0x10, binary('power_on')],
  [0x11, binary('opening')],
  [0x12, { size: 2, quantity: 'co2', factor: 1, unit: 'ppm' }],
  [0x13, { size: 2, quantity: 'tvoc', factor: 1, unit: 'µg/m³' }],
  [0x14, { size: 2, quantity: 'moisture', factor: 0.01, unit: '%' }],
  [0x15, binary('battery_low')],
  [0x16, binary('battery_charging')],
  [0x17, binary('carbon_monoxide')],
  [0x18, binary('cold')],
  [0x19, binary('connectivity')],
  [0x1a, binary('door')],
  [0x1b, binary('garage_door')],
  [0x1c, binary('gas')],
  [0x1d, binary('heat')],
  [0x1e, binary('light')],
  [0x1f, binary('lock')],
  [0x20, binary('moisture_detected')],
  [0x21, binary('motion')],
  [0x22, binary('moving')],
  [0x23, binary('occupancy')],
  [0x24, binary('plug')],
  [0x25, binary('presence')],
  [0x26, binary('problem')],
  [0x27, binary('running')],
  [0x28, binary('safety')],
  [0x29, binary('smoke')],
  [0x2a, binary('sound')],
  [0x2b, binary('tamper')],
  [0x2c, binary('vibration')],
  [0x2d, binary('window')],
  [0x2e, { size: 1, quantity: 'humidity', factor: 1, unit: '%' }],
  [0x2f, { size: 1, quantity: 'moisture', factor: 1, unit: '%' }],
  [0x3a, { size: 1, quantity: 'button', factor: 1, unit: 'event' }],
  [0x3c, { size: 2 }],
  [0x3d, { size: 2, quantity: 'count', factor: 1, unit: '' }],
  [0x3e, { size: 4, quantity: 'count', factor: 1, unit: '' }],
  [0x3f, { size: 2, signed: true, quantity: 'rotation', factor: 0.1, unit: '°' }],
  [0x40, { size: 2, quantity: 'distance', factor: 1, unit: 'mm' }],
  [0x41, { size: 2, quantity: 'distance', factor: 0.1, unit: 'm' }],
  [0x42, { size: 3, quantity: 'duration', factor: 0.001, unit: 's' }],
  [0x43, { size: 2, quantity: 'current', factor: 0.001, unit: 'A' }],
  [0x44, { size: 2, quantity: 'speed', factor: 0.01, unit: 'm/s' }],
  [0x45, { size: 2, signed: true, quantity: 'temperature', factor: 0.1, unit: '°C' }],
  [0x46, { size: 1, quantity: 'uv_index', factor: 0.1, unit: '' }],
  [0x47, { size: 2, quantity: 'volume', factor: 0.1, unit: 'L' }],
  [0x48, { size: 2, quantity: 'volume', factor: 1, unit: 'mL' }],
  [0x49, { size: 2, quantity: 'volume_flow_rate', factor: 0.001, unit: 'm³/h' }],
  [0x4a, { size: 2, quantity: 'voltage', factor: 0.1, unit: 'V' }],
  [0x4b, { size: 3, quantity: 'gas', factor: 0.001, unit: 'm³' }],
  [0x4c, { size: 4, quantity: 'gas', factor: 0.001, unit: 'm³' }],
  [0x4d, { size: 4, quantity: 'energy', factor: 0.001, unit: 'kWh' }],
  [0x4e, { size: 4, quantity: 'volume', factor: 0.001, unit: 'L' }],
  [0x4f, { size: 4, quantity: 'water', factor: 0.001, unit: 'L' }],
  [0x50, { size: 4, quantity: 'timestamp', factor: 1, unit: 's' }],
  [0x51, { size: 2, quantity: 'acceleration', factor: 0.001, unit: 'm/s²' }],
  [0x52, { size: 2, quantity: 'gyroscope', factor: 0.001, unit: '°/s' }],
  [0x53, { size: 'prefixed' }],
  [0x54, { size: 'prefixed' }],
  [0xf0, { size: 2 }],
  [0xf1, { size: 4 }],
  [0xf2, { size: 3 }],
]);
