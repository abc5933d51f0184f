import { randomUUID } from 'node:crypto';
import type { BleBackend, EventPublisher } from '../../api/backends.js';
import type { Logger } from '../../log/logger.js';
import { ApiError, type MethodResult, type NearbyDevice as NearbyView, type ParsedInput } from '../../shared/api.js';
import type { Clock } from '../../shared/clock.js';
import type { Component } from '../../shared/lifecycle.js';
import { PairingError, type BlePairing, type NearbyDevice, type PairingProblem } from './pairing.js';

/** The nearby list goes out at most this often while devices keep advertising. */
const NEARBY_EVERY_MS = 500;
/** Shown for a device BlueZ reported no signal strength for (HCI's "not available" is 127; this sorts it last). */
const UNKNOWN_RSSI = -127;

export interface BlePairingServiceDeps {
  /** The running BLE source's pairing (`BleSource.pairing`), fed by its scanner; undefined while BLE is not running. */
  pairing: () => BlePairing | undefined;
  events: EventPublisher;
  /**
   * The config version a write result reports. Paired devices live in the BLE allowlist, not in
   * the YAML file, so adding or removing one leaves the config (and its version) as it is.
   */
  configVersion: () => string | Promise<string>;
  log: Logger;
  clock: Clock;
  nearbyEveryMs?: number;
}

interface Session {
  id: string;
  /** A restarted BLE source has a new BlePairing: a session belongs to the one it was opened on. */
  pairing: BlePairing;
  deadlineTimer: NodeJS.Timeout;
  nearbyTimer: NodeJS.Timeout | undefined;
  unwatch: () => void;
}

/**
 * BLE pairing for the control API: one permit-join session at a time (a new one replaces the
 * old), its nearby list streamed live as `pairing-nearby` events, and adding a device only when
 * its latest advertisement decodes, with the bind key when it is encrypted.
 */
export class BlePairingService implements BleBackend, Component {
  readonly name = 'ble-pairing';
  private session: Session | undefined;

  constructor(private readonly deps: BlePairingServiceDeps) {}

  startPairing(input: ParsedInput<'startPairing'>): MethodResult<'startPairing'> {
    this.end('stopped');
    const pairing = this.pairing();
    const opened = pairing.startSession(input.durationSeconds * 1000);
    const deadline = opened.expiresAt as string;
    const id = randomUUID();
    const session: Session = {
      id,
      pairing,
      deadlineTimer: setTimeout(() => this.end('deadline'), Math.max(0, Date.parse(deadline) - this.deps.clock.now())),
      nearbyTimer: undefined,
      unwatch: pairing.watch(() => this.scheduleNearby(session)),
    };
    this.session = session;
    this.deps.log.info({ sessionId: id, deadline }, 'BLE pairing started from the control API');
    return { sessionId: id, deadline };
  }

  stopPairing(input: ParsedInput<'stopPairing'>): MethodResult<'stopPairing'> {
    this.current(input.sessionId);
    this.end('stopped');
    return { ok: true };
  }

  nearby(input: ParsedInput<'nearbyDevices'>): MethodResult<'nearbyDevices'> {
    return { devices: this.devices(this.current(input.sessionId).pairing) };
  }

  async addSensor(input: ParsedInput<'addBleSensor'>): Promise<MethodResult<'addBleSensor'>> {
    const pairing = this.pairing();
    const taken = pairing.list().find((entry) => entry.id === input.id && entry.mac !== input.mac.toUpperCase());
    if (taken) throw new ApiError('conflict', `sensor id "${input.id}" is already used by ${taken.mac}`, { field: 'id', hint: 'choose another id' });
    try {
      pairing.add({ mac: input.mac, id: input.id, ...(input.bindKey !== undefined && { bindKey: input.bindKey }) });
    } catch (error) {
      if (error instanceof PairingError) throw refusal(error);
      throw error;
    }
    if (this.session) this.publishNearby(this.session);
    return { version: await this.deps.configVersion() };
  }

  async removeSensor(input: ParsedInput<'removeBleSensor'>): Promise<MethodResult<'removeBleSensor'>> {
    const pairing = this.pairing();
    const entry = pairing.list().find((e) => e.id === input.id);
    if (!entry) throw new ApiError('not-found', `no paired BLE sensor has the id "${input.id}"`, { field: 'id' });
    pairing.remove(entry.mac);
    return { version: await this.deps.configVersion() };
  }

  async start(): Promise<void> {}

  /** Ends the open session (gateway shutdown). */
  async stop(): Promise<void> {
    this.end('stopped');
  }

  private pairing(): BlePairing {
    const pairing = this.deps.pairing();
    if (pairing === undefined) throw new ApiError('unavailable', 'BLE is not running', { hint: 'add a sensors.ble section and check that the box has a Bluetooth adapter' });
    if (this.session && this.session.pairing !== pairing) this.end('error');
    return pairing;
  }

  private current(sessionId: string): Session {
    this.pairing();
    if (this.session?.id !== sessionId) {
      throw new ApiError('not-found', `pairing session ${sessionId} is not open`, { field: 'sessionId', hint: 'it ended or was replaced; start a new one' });
    }
    return this.session;
  }

  private devices(pairing: BlePairing): NearbyView[] {
    const paired = new Map(pairing.list().map((entry) => [entry.mac, entry.id]));
    return pairing.nearby().map((device) => view(device, paired.get(device.mac) ?? null));
  }

  private scheduleNearby(session: Session): void {
    if (session.nearbyTimer !== undefined) return;
    session.nearbyTimer = setTimeout(() => {
      session.nearbyTimer = undefined;
      this.publishNearby(session);
    }, this.deps.nearbyEveryMs ?? NEARBY_EVERY_MS);
  }

  private publishNearby(session: Session): void {
    if (this.session !== session) return;
    let devices: NearbyView[];
    try {
      devices = this.devices(session.pairing);
    } catch (error) {
      // The window closed on its own (BlePairing expires lazily); the deadline timer reports it.
      if (error instanceof PairingError && error.problem === 'no-session') return;
      throw error;
    }
    this.deps.events.publish({ type: 'pairing-nearby', sessionId: session.id, devices });
  }

  private end(reason: 'stopped' | 'deadline' | 'error'): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    clearTimeout(session.deadlineTimer);
    clearTimeout(session.nearbyTimer);
    session.unwatch();
    session.pairing.stopSession();
    this.deps.events.publish({ type: 'pairing-ended', sessionId: session.id, reason });
  }
}

function view(device: NearbyDevice, pairedAs: string | null): NearbyView {
  return {
    mac: device.mac,
    name: device.name,
    rssi: device.rssi ?? UNKNOWN_RSSI,
    format: device.format,
    encrypted: device.encrypted,
    preview: Object.entries(device.preview ?? {}).map(([quantity, measurement]) => ({ quantity, value: measurement.value, unit: measurement.unit })),
    pairedAs,
    lastSeen: device.lastSeen,
  };
}

const REFUSALS: Record<PairingProblem, { kind: 'bad-request' | 'not-found' | 'conflict'; field?: string; hint: string }> = {
  'wrong-key': { kind: 'bad-request', field: 'bindKey', hint: 'the bind key is wrong: check it against the sensor (its label, app or firmware) and enter it again' },
  'key-required': { kind: 'bad-request', field: 'bindKey', hint: 'this device encrypts its data: enter its 32-digit bind key' },
  'key-not-needed': { kind: 'bad-request', field: 'bindKey', hint: 'leave the bind key empty for this device' },
  'bad-key': { kind: 'bad-request', field: 'bindKey', hint: 'a bind key is 32 hex digits' },
  'bad-mac': { kind: 'bad-request', field: 'mac', hint: 'pick the device from the nearby list' },
  'not-heard': { kind: 'not-found', field: 'mac', hint: 'wake the device (press its button) and wait for it to appear in the nearby list' },
  undecodable: { kind: 'bad-request', field: 'mac', hint: 'fieldgate reads BTHome v2 and Ruuvi devices' },
  'no-session': { kind: 'conflict', hint: 'start pairing first; a session ends at its deadline' },
};

function refusal(error: PairingError): ApiError {
  const { kind, field, hint } = REFUSALS[error.problem];
  const message = error.problem === 'wrong-key' ? `wrong bind key: ${error.message}` : error.message;
  return new ApiError(kind, message, { ...(field !== undefined && { field }), hint });
}
