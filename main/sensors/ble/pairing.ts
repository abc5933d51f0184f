import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Values } from '../../shared/reading.js';
import { UserError } from '../../shared/errors.js';
import { defaultSensorId, type AllowlistEntryView, type AllowlistStore } from './allowlist.js';
import type { Advertisement } from './bluez.js';
import { BIND_KEY_BYTES } from './decoders/bthome-crypto.js';
import { hexToBytes, macToBytes, normalizeMac } from './decoders/bytes.js';
import { decodePayloads, hasKnownPayload, keyedFormatOf, type AdvertisementPayloads } from './decoders/index.js';
import { DecodeError, type BleFormat, type DecodedAdvertisement } from './decoders/types.js';

const MAX_CAPTURED = 512;

export interface NearbyDevice {
  mac: string;
  name: string | null;
  rssi: number | null;
  lastSeen: string;
  format: BleFormat | null;
  /** Encrypted BTHome or MiBeacon: adding it needs the bind key. */
  encrypted: boolean;
  /** Decoded values of the latest advertisement (absent for encrypted frames). */
  preview: Values | null;
  /** Why the latest advertisement could not be decoded, if it could not. */
  problem: string | null;
  allowlisted: boolean;
}

export interface PairingSession {
  active: boolean;
  expiresAt: string | null;
}

export interface AddDeviceRequest {
  mac: string;
  name?: string;
  /** Sensor id for readings; defaults to `ble-<mac>`. */
  id?: string;
  /** 32 hex digits, for encrypted BTHome and MiBeacon devices. */
  bindKey?: string;
}

/** What kept a device from being added; the message says what to do about it. */
export type PairingProblem = 'no-session' | 'not-heard' | 'bad-mac' | 'bad-key' | 'key-required' | 'wrong-key' | 'key-not-needed' | 'undecodable';

export class PairingError extends UserError {
  constructor(
    readonly problem: PairingProblem,
    message: string,
  ) {
    super(message);
    this.name = 'PairingError';
  }
}

interface Capture {
  mac: string;
  name?: string;
  rssi?: number;
  lastSeen: number;
  payloads: AdvertisementPayloads;
}

/** `231d39c1…` → 16 bytes; the message never echoes the key. */
export function parseBindKey(hex: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(hex, 'bind key');
  } catch {
    throw new PairingError('bad-key', `bind key: expected ${BIND_KEY_BYTES * 2} hex digits`);
  }
  if (bytes.length !== BIND_KEY_BYTES) throw new PairingError('bad-key', `bind key: expected ${BIND_KEY_BYTES * 2} hex digits, got ${bytes.length * 2}`);
  return bytes;
}

/**
 * Decodes a captured advertisement the way the source will, so a device is only saved when its
 * data can actually be read: an encrypted device needs a key that passes the MIC check, and a
 * plaintext device must not be given one.
 */
export function checkAdvertisement(mac: string, payloads: AdvertisementPayloads, bindKey: Uint8Array | undefined): DecodedAdvertisement {
  let decoded: DecodedAdvertisement;
  try {
    decoded = decodePayloads(payloads, bindKey ? { mac: macToBytes(mac), bindKey } : {});
  } catch (error) {
    if (error instanceof DecodeError && error.reason === 'mic-failure') {
      throw new PairingError('wrong-key', `the bind key does not match the latest advertisement of ${mac} (MIC check failed)`);
    }
    if (error instanceof DecodeError && error.reason === 'key-required') {
      throw new PairingError('key-required', `${mac} sends encrypted ${keyedFormatOf(payloads) ?? 'data'}: give its bind key`);
    }
    throw new PairingError('undecodable', `${mac}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (bindKey && !decoded.encrypted) {
    if (Object.keys(decoded.values).length === 0) {
      throw new PairingError('not-heard', `${mac}: its latest advertisement carries no data to check the bind key on; wait for a data frame and try again`);
    }
    throw new PairingError('key-not-needed', `${mac} sends unencrypted data; a bind key would reject all of it`);
  }
  return decoded;
}

/**
 * Permit-join for BLE: while a time-limited session is open, advertisements from nearby devices
 * are captured so they can be listed (strongest signal first, with a decoded preview) and added
 * to the allowlist after checking their data decodes with the given key.
 */
export class BlePairing {
  private expiresAt: number | null = null;
  private readonly captures = new Map<string, Capture>();
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly deps: {
      store: AllowlistStore;
      clock: Clock;
      log: Logger;
      maxSessionMs: number;
      /** Told when a device was added, changed or removed. */
      onChange?(mac: string): void;
    },
  ) {}

  startSession(durationMs = this.deps.maxSessionMs): PairingSession {
    if (!Number.isFinite(durationMs) || durationMs <= 0) throw new UserError('pairing session: duration must be a positive number of milliseconds');
    this.expiresAt = this.deps.clock.now() + Math.min(durationMs, this.deps.maxSessionMs);
    this.captures.clear();
    this.deps.log.info({ expiresAt: new Date(this.expiresAt).toISOString() }, 'BLE pairing session open');
    return this.session();
  }

  stopSession(): PairingSession {
    if (this.expiresAt !== null) this.deps.log.info('BLE pairing session closed');
    this.expiresAt = null;
    this.captures.clear();
    return this.session();
  }

  session(): PairingSession {
    const active = this.isActive();
    return { active, expiresAt: active ? new Date(this.expiresAt as number).toISOString() : null };
  }

  /** Fed with every advertisement the scanner reports. */
  observe(advertisement: Advertisement): void {
    if (!this.isActive()) return;
    const previous = this.captures.get(advertisement.mac);
    if (!previous && !hasKnownPayload(advertisement)) return;
    const capture: Capture = {
      mac: advertisement.mac,
      lastSeen: this.deps.clock.now(),
      payloads: !previous || (hasKnownPayload(advertisement) && carriesData(advertisement)) ? advertisement : previous.payloads,
      ...(advertisement.name !== undefined ? { name: advertisement.name } : previous?.name !== undefined ? { name: previous.name } : {}),
      ...(advertisement.rssi !== undefined ? { rssi: advertisement.rssi } : previous?.rssi !== undefined ? { rssi: previous.rssi } : {}),
    };
    this.captures.delete(advertisement.mac);
    this.captures.set(advertisement.mac, capture);
    if (this.captures.size > MAX_CAPTURED) this.captures.delete(this.captures.keys().next().value as string);
    for (const watcher of this.watchers) watcher();
  }

  /** Calls `listener` after each advertisement captured during a session; returns the unsubscribe function. */
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Devices heard during the session, strongest signal first. */
  nearby(): NearbyDevice[] {
    this.requireSession();
    return [...this.captures.values()]
      .sort((a, b) => (b.rssi ?? -Infinity) - (a.rssi ?? -Infinity))
      .map((capture) => this.describe(capture));
  }

  add(request: AddDeviceRequest): AllowlistEntryView {
    this.requireSession();
    const mac = macOrThrow(request.mac);
    const capture = this.captures.get(mac);
    if (!capture) throw new PairingError('not-heard', `${mac} was not heard during this pairing session; wake it (press its button) and wait for it to appear`);
    const bindKey = request.bindKey !== undefined ? parseBindKey(request.bindKey) : this.deps.store.get(mac)?.bindKey;
    const decoded = checkAdvertisement(mac, capture.payloads, bindKey);
    const entry = {
      mac,
      id: request.id ?? this.deps.store.get(mac)?.id ?? defaultSensorId(mac),
      name: request.name ?? capture.name ?? mac,
      format: decoded.format,
      addedAt: this.deps.clock.now(),
      ...(bindKey ? { bindKey } : {}),
    };
    this.deps.store.upsert(entry);
    this.deps.log.info({ mac, id: entry.id, format: entry.format, encrypted: bindKey !== undefined }, 'BLE device allowlisted');
    this.deps.onChange?.(mac);
    return this.deps.store.list().find((e) => e.mac === mac) as AllowlistEntryView;
  }

  remove(mac: string): boolean {
    const normalized = macOrThrow(mac);
    const removed = this.deps.store.remove(normalized);
    if (removed) {
      this.deps.log.info({ mac: normalized }, 'BLE device removed from the allowlist');
      this.deps.onChange?.(normalized);
    }
    return removed;
  }

  list(): AllowlistEntryView[] {
    return this.deps.store.list();
  }

  private describe(capture: Capture): NearbyDevice {
    const entry = this.deps.store.get(capture.mac);
    const base = {
      mac: capture.mac,
      name: capture.name ?? null,
      rssi: capture.rssi ?? null,
      lastSeen: new Date(capture.lastSeen).toISOString(),
      allowlisted: entry !== undefined,
    };
    try {
      const keying = entry?.bindKey ? { mac: macToBytes(capture.mac), bindKey: entry.bindKey } : {};
      const decoded = decodePayloads(capture.payloads, keying);
      return { ...base, format: decoded.format, encrypted: decoded.encrypted, preview: decoded.values, problem: null };
    } catch (error) {
      const reason = error instanceof DecodeError ? error.reason : 'malformed';
      const encrypted = reason === 'key-required' || reason === 'mic-failure';
      return {
        ...base,
        format: encrypted ? (keyedFormatOf(capture.payloads) ?? null) : null,
        encrypted,
        preview: null,
        problem: reason === 'key-required' ? null : error instanceof Error ? error.message : String(error),
      };
    }
  }

  private isActive(): boolean {
    if (this.expiresAt !== null && this.deps.clock.now() >= this.expiresAt) {
      this.expiresAt = null;
      this.captures.clear();
      this.deps.log.info('BLE pairing session expired');
    }
    return this.expiresAt !== null;
  }

  private requireSession(): void {
    if (!this.isActive()) throw new PairingError('no-session', 'no BLE pairing session is open; start one first');
  }
}

/** False for a plaintext frame without values (a MiBeacon "I am here" frame): keep the previous capture instead. */
function carriesData(payloads: AdvertisementPayloads): boolean {
  try {
    const decoded = decodePayloads(payloads);
    return decoded.encrypted || Object.keys(decoded.values).length > 0;
  } catch {
    return true;
  }
}

function macOrThrow(mac: string): string {
  try {
    return normalizeMac(mac);
  } catch {
    throw new PairingError('bad-mac', `expected a MAC such as 54:48:E6:8F:80:A5, got "${mac}"`);
  }
}
