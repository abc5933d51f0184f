import type { AdvertisementPayloads } from './decoders/index.js';

export const BLUEZ = 'org.bluez';
export const ADAPTER_IFACE = 'org.bluez.Adapter1';
export const DEVICE_IFACE = 'org.bluez.Device1';
export const OBJECT_MANAGER_IFACE = 'org.freedesktop.DBus.ObjectManager';
export const PROPERTIES_IFACE = 'org.freedesktop.DBus.Properties';

/** Why the scanner reports a device: first seen from the cache, newly found, new payload, or only a new RSSI. */
export type AdvertisementKind = 'cached' | 'added' | 'data' | 'rssi';

/** One device's latest state as BlueZ reports it. */
export interface Advertisement extends AdvertisementPayloads {
  kind: AdvertisementKind;
  /** Upper case with colons. */
  mac: string;
  name?: string;
  rssi?: number;
  devicePath: string;
  adapterPath: string;
}

/** Device1 properties, merged as PropertiesChanged signals arrive. */
export interface DeviceProperties extends AdvertisementPayloads {
  mac?: string;
  name?: string;
  rssi?: number;
}

/** Applies a Device1 property dictionary (from GetManagedObjects, InterfacesAdded or PropertiesChanged). */
export function mergeDeviceProperties(
  current: DeviceProperties,
  changed: Record<string, unknown>,
  invalidated: readonly string[] = [],
): DeviceProperties {
  const next: DeviceProperties = { ...current };
  if (typeof changed.Address === 'string') next.mac = changed.Address.toUpperCase();
  if (typeof changed.Alias === 'string') next.name = changed.Alias;
  else if (typeof changed.Name === 'string') next.name = changed.Name;
  if (typeof changed.Name === 'string') next.localName = changed.Name;
  if (typeof changed.RSSI === 'number') next.rssi = changed.RSSI;
  if ('ServiceData' in changed) next.serviceData = toServiceData(changed.ServiceData);
  if ('ManufacturerData' in changed) next.manufacturerData = toManufacturerData(changed.ManufacturerData);
  if (invalidated.includes('RSSI')) delete next.rssi;
  if (invalidated.includes('ServiceData')) next.serviceData = new Map();
  if (invalidated.includes('ManufacturerData')) next.manufacturerData = new Map();
  return next;
}

export function emptyDeviceProperties(): DeviceProperties {
  return { serviceData: new Map(), manufacturerData: new Map() };
}

function toServiceData(value: unknown): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>();
  if (!isRecord(value)) return map;
  for (const [uuid, data] of Object.entries(value)) {
    const bytes = toBytes(data);
    if (bytes) map.set(uuid.toLowerCase(), bytes);
  }
  return map;
}

function toManufacturerData(value: unknown): Map<number, Uint8Array> {
  const map = new Map<number, Uint8Array>();
  if (!isRecord(value)) return map;
  for (const [company, data] of Object.entries(value)) {
    const id = Number(company);
    const bytes = toBytes(data);
    if (Number.isInteger(id) && bytes) map.set(id, bytes);
  }
  return map;
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(value as number[]);
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
