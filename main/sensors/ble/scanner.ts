import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { BleConfig } from '../../shared/config/ble.js';
import {
  ADAPTER_IFACE,
  BLUEZ,
  DEVICE_IFACE,
  OBJECT_MANAGER_IFACE,
  PROPERTIES_IFACE,
  emptyDeviceProperties,
  isRecord,
  mergeDeviceProperties,
  type Advertisement,
  type AdvertisementKind,
  type DeviceProperties,
} from './bluez.js';
import { DbusCallError, DbusVariant, type DbusConnection, type DbusConnector, type DbusSignal } from './bus.js';
import { connectSystemBus } from './dbus-next-bus.js';

const DBUS = 'org.freedesktop.DBus';
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;
const STOP_DISCOVERY_GRACE_MS = 2_000;

export type RearmReason = 'adapter-added' | 'bluez-restarted' | 'discovery-stopped' | 'powered-on' | 'watchdog' | 'retry';

export interface BleScannerDeps {
  connect: DbusConnector;
  log: Logger;
  clock: Clock;
  /** Scan only with this adapter (e.g. `hci0`); every adapter when absent. */
  adapter?: string;
  /** Re-arm discovery when no device reported anything for this long. */
  noDataTimeoutMs: number;
  onAdvertisement(advertisement: Advertisement): void;
  onRearm?(reason: RearmReason): void;
  /** First retry delay; doubles per failure with full jitter, capped at 30 s. */
  retryBaseMs?: number;
}

export interface ScannerStatus {
  connected: boolean;
  bluetoothd: boolean;
  adapters: Array<{ path: string; discovering: boolean }>;
  devices: number;
  lastActivityAt: number | null;
}

interface AdapterState {
  discovering: boolean;
  arming: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
}

/**
 * Keeps BlueZ LE discovery running and reports every device update. Talks to bluetoothd over
 * D-Bus only, so it needs no root and coexists with other BlueZ clients. Recovers from a
 * bluetoothd restart, adapters coming and going, discovery being stopped by someone else,
 * and the bus connection itself dropping.
 */
/** The scanner the `sensors.ble` config asks for: its adapter and no-data timeout, on the system bus unless `connect` says otherwise. */
export function scannerFor(
  config: BleConfig,
  deps: Pick<BleScannerDeps, 'log' | 'clock' | 'onAdvertisement' | 'onRearm'> & { connect?: DbusConnector },
): BleScanner {
  return new BleScanner({
    ...deps,
    connect: deps.connect ?? connectSystemBus,
    noDataTimeoutMs: config.noDataTimeoutSeconds * 1000,
    ...(config.adapter ? { adapter: config.adapter } : {}),
  });
}

export class BleScanner {
  private connection: DbusConnection | undefined;
  private running = false;
  private bluetoothd = false;
  private readonly adapters = new Map<string, AdapterState>();
  private readonly devices = new Map<string, DeviceProperties>();
  private lastActivityAt: number | null = null;
  private watchdog: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectFailures = 0;
  /** Bumped whenever bluetoothd or the bus goes away, so late replies from before are ignored. */
  private epoch = 0;

  constructor(private readonly deps: BleScannerDeps) {}

  async start(): Promise<void> {
    this.running = true;
    this.lastActivityAt = this.deps.clock.now();
    const checkEvery = Math.max(50, Math.min(this.deps.noDataTimeoutMs / 4, 30_000));
    this.watchdog = setInterval(() => this.checkWatchdog(), checkEvery);
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.watchdog);
    clearTimeout(this.reconnectTimer);
    const connection = this.connection;
    this.connection = undefined;
    this.epoch++;
    for (const state of this.adapters.values()) clearTimeout(state.retry);
    if (connection) {
      const stops = [...this.adapters].filter(([, s]) => s.discovering).map(([path]) => this.adapterCall(connection, path, 'StopDiscovery'));
      await Promise.race([Promise.allSettled(stops), delay(STOP_DISCOVERY_GRACE_MS)]);
      connection.close();
    }
    this.adapters.clear();
    this.devices.clear();
  }

  status(): ScannerStatus {
    return {
      connected: this.connection !== undefined,
      bluetoothd: this.bluetoothd,
      adapters: [...this.adapters].map(([path, s]) => ({ path, discovering: s.discovering })),
      devices: this.devices.size,
      lastActivityAt: this.lastActivityAt,
    };
  }

  private async connect(): Promise<void> {
    let connection: DbusConnection | undefined;
    try {
      connection = await this.deps.connect();
      if (!this.running) {
        connection.close();
        return;
      }
      const epoch = ++this.epoch;
      connection.onSignal((signal) => this.onSignal(signal));
      connection.onClose((error) => this.onConnectionLost(connection as DbusConnection, error));
      await connection.addMatch(`type='signal',sender='${BLUEZ}',interface='${OBJECT_MANAGER_IFACE}'`);
      await connection.addMatch(`type='signal',sender='${BLUEZ}',interface='${PROPERTIES_IFACE}',member='PropertiesChanged'`);
      await connection.addMatch(`type='signal',sender='${DBUS}',interface='${DBUS}',member='NameOwnerChanged',arg0='${BLUEZ}'`);
      this.connection = connection;
      this.reconnectFailures = 0;
      const [present] = await connection.call({
        destination: DBUS,
        path: '/org/freedesktop/DBus',
        interface: DBUS,
        member: 'NameHasOwner',
        signature: 's',
        body: [BLUEZ],
      });
      if (present === true) await this.seed(connection, epoch, 'adapter-added');
      else this.deps.log.warn('bluetoothd is not on the system bus; waiting for it to start');
    } catch (error) {
      connection?.close();
      if (this.connection === connection) this.connection = undefined;
      if (!this.running) return;
      const wait = backoff(this.reconnectFailures++, this.deps.retryBaseMs);
      this.deps.log.error({ err: message(error), retryInMs: wait }, 'cannot use the D-Bus system bus for BLE');
      this.reconnectTimer = setTimeout(() => void this.connect(), wait);
    }
  }

  private onConnectionLost(connection: DbusConnection, error?: Error): void {
    if (this.connection !== connection || !this.running) return;
    this.deps.log.warn({ err: error?.message }, 'lost the D-Bus system bus connection; reconnecting');
    this.connection = undefined;
    this.forgetBluetoothd();
    this.reconnectTimer = setTimeout(() => void this.connect(), backoff(this.reconnectFailures++, this.deps.retryBaseMs));
  }

  /** Reads every adapter and device bluetoothd already knows, then arms discovery on each adapter. */
  private async seed(connection: DbusConnection, epoch: number, reason: RearmReason): Promise<void> {
    this.bluetoothd = true;
    const [objects] = await connection.call({ destination: BLUEZ, path: '/', interface: OBJECT_MANAGER_IFACE, member: 'GetManagedObjects' });
    if (epoch !== this.epoch || !isRecord(objects)) return;
    for (const [path, interfaces] of Object.entries(objects)) {
      if (isRecord(interfaces) && isRecord(interfaces[ADAPTER_IFACE])) this.adapterAppeared(path, interfaces[ADAPTER_IFACE], reason);
    }
    for (const [path, interfaces] of Object.entries(objects)) {
      if (isRecord(interfaces) && isRecord(interfaces[DEVICE_IFACE])) this.deviceUpdated(path, interfaces[DEVICE_IFACE], [], 'cached');
    }
    if (this.adapters.size === 0) this.deps.log.warn({ adapter: this.deps.adapter ?? 'any' }, 'no Bluetooth adapter yet; waiting for one');
  }

  private onSignal(signal: DbusSignal): void {
    try {
      if (signal.interface === DBUS && signal.member === 'NameOwnerChanged') this.onOwnerChanged(signal.body);
      else if (signal.interface === OBJECT_MANAGER_IFACE && signal.member === 'InterfacesAdded') this.onInterfacesAdded(signal.body);
      else if (signal.interface === OBJECT_MANAGER_IFACE && signal.member === 'InterfacesRemoved') this.onInterfacesRemoved(signal.body);
      else if (signal.interface === PROPERTIES_IFACE && signal.member === 'PropertiesChanged') this.onPropertiesChanged(signal.path, signal.body);
    } catch (error) {
      this.deps.log.error({ err: message(error), member: signal.member, path: signal.path }, 'could not handle a BlueZ signal');
    }
  }

  private onOwnerChanged([name, , newOwner]: unknown[]): void {
    if (name !== BLUEZ || !this.connection) return;
    this.forgetBluetoothd();
    if (typeof newOwner === 'string' && newOwner !== '') {
      this.deps.log.info('bluetoothd (re)started; re-arming discovery');
      const connection = this.connection;
      const epoch = this.epoch;
      this.seed(connection, epoch, 'bluez-restarted').catch((error: unknown) => {
        this.deps.log.error({ err: message(error) }, 'could not read BlueZ objects after bluetoothd restarted');
      });
    } else {
      this.deps.log.warn('bluetoothd left the system bus; waiting for it to come back');
    }
  }

  private forgetBluetoothd(): void {
    this.epoch++;
    this.bluetoothd = false;
    for (const state of this.adapters.values()) clearTimeout(state.retry);
    this.adapters.clear();
    this.devices.clear();
  }

  private onInterfacesAdded([path, interfaces]: unknown[]): void {
    if (typeof path !== 'string' || !isRecord(interfaces)) return;
    if (isRecord(interfaces[ADAPTER_IFACE])) this.adapterAppeared(path, interfaces[ADAPTER_IFACE], 'adapter-added');
    if (isRecord(interfaces[DEVICE_IFACE])) this.deviceUpdated(path, interfaces[DEVICE_IFACE], [], 'added');
  }

  private onInterfacesRemoved([path, interfaces]: unknown[]): void {
    if (typeof path !== 'string' || !Array.isArray(interfaces)) return;
    if (interfaces.includes(ADAPTER_IFACE) && this.adapters.has(path)) {
      clearTimeout(this.adapters.get(path)?.retry);
      this.adapters.delete(path);
      for (const device of [...this.devices.keys()]) if (device.startsWith(`${path}/`)) this.devices.delete(device);
      this.deps.log.warn({ adapter: path }, 'Bluetooth adapter removed');
    }
    if (interfaces.includes(DEVICE_IFACE)) this.devices.delete(path);
  }

  private onPropertiesChanged(path: string, [iface, changed, invalidated]: unknown[]): void {
    if (!isRecord(changed)) return;
    if (iface === DEVICE_IFACE) {
      this.deviceUpdated(path, changed, Array.isArray(invalidated) ? invalidated.filter((x) => typeof x === 'string') : []);
      return;
    }
    const adapter = this.adapters.get(path);
    if (iface !== ADAPTER_IFACE || !adapter) return;
    if (typeof changed.Discovering === 'boolean') {
      adapter.discovering = changed.Discovering;
      if (!changed.Discovering && !adapter.arming) {
        this.deps.log.warn({ adapter: path }, 'discovery stopped; re-arming');
        this.scheduleArm(path, 'discovery-stopped');
      }
    }
    if (changed.Powered === true && !adapter.discovering) void this.arm(path, 'powered-on');
  }

  private adapterAppeared(path: string, properties: Record<string, unknown>, reason: RearmReason): void {
    const name = path.split('/').at(-1);
    if (this.deps.adapter && name !== this.deps.adapter) return;
    if (this.adapters.has(path)) return;
    this.adapters.set(path, { discovering: properties.Discovering === true, arming: false, failures: 0 });
    this.deps.log.info({ adapter: path }, 'Bluetooth adapter found');
    void this.arm(path, reason);
  }

  /** SetDiscoveryFilter(le, duplicates) then StartDiscovery; stops our own session first when re-arming. */
  private async arm(path: string, reason: RearmReason): Promise<void> {
    const state = this.adapters.get(path);
    const connection = this.connection;
    if (!state || state.arming || !connection || !this.running) return;
    const epoch = this.epoch;
    state.arming = true;
    clearTimeout(state.retry);
    this.deps.onRearm?.(reason);
    try {
      if (reason !== 'adapter-added' && reason !== 'bluez-restarted') {
        await this.adapterCall(connection, path, 'StopDiscovery').catch(() => undefined);
      }
      await this.adapterCall(connection, path, 'SetDiscoveryFilter', 'a{sv}', [
        { Transport: new DbusVariant('s', 'le'), DuplicateData: new DbusVariant('b', true) },
      ]);
      await this.adapterCall(connection, path, 'StartDiscovery').catch((error: unknown) => {
        // InProgress: a start from this client is already under way, which is what we want.
        if (!(error instanceof DbusCallError && error.errorName === 'org.bluez.Error.InProgress')) throw error;
      });
      if (epoch !== this.epoch) return;
      state.failures = 0;
      state.discovering = true;
      this.deps.log.info({ adapter: path, reason }, 'LE discovery running');
    } catch (error) {
      if (epoch !== this.epoch || !this.adapters.has(path)) return;
      if (error instanceof DbusCallError && error.errorName === 'org.bluez.Error.NotReady') {
        this.deps.log.warn({ adapter: path }, 'adapter is not powered; will start discovery when it is');
      } else {
        this.deps.log.error({ adapter: path, err: message(error) }, 'could not start LE discovery');
      }
      state.failures++;
      this.scheduleArm(path, 'retry');
    } finally {
      state.arming = false;
    }
  }

  private scheduleArm(path: string, reason: RearmReason): void {
    const state = this.adapters.get(path);
    if (!state || !this.running) return;
    clearTimeout(state.retry);
    state.retry = setTimeout(() => {
      // Someone (or BlueZ itself) may have restarted discovery while we waited.
      if (reason === 'discovery-stopped' && state.discovering) return;
      void this.arm(path, reason);
    }, backoff(state.failures, this.deps.retryBaseMs));
  }

  private adapterCall(connection: DbusConnection, path: string, member: string, signature?: string, body?: unknown[]): Promise<unknown[]> {
    return connection.call({
      destination: BLUEZ,
      path,
      interface: ADAPTER_IFACE,
      member,
      ...(signature ? { signature } : {}),
      ...(body ? { body } : {}),
    });
  }

  private deviceUpdated(path: string, changed: Record<string, unknown>, invalidated: string[], kind?: AdvertisementKind): void {
    const adapterPath = path.split('/').slice(0, 4).join('/');
    if (this.deps.adapter && adapterPath !== `/org/bluez/${this.deps.adapter}`) return;
    const before = this.devices.get(path) ?? { ...emptyDeviceProperties(), ...macFromPath(path) };
    const after = mergeDeviceProperties(before, changed, invalidated);
    this.devices.set(path, after);
    const effective =
      kind ?? ('ServiceData' in changed || 'ManufacturerData' in changed ? 'data' : 'RSSI' in changed ? 'rssi' : undefined);
    if (!effective || !after.mac) return;
    this.lastActivityAt = this.deps.clock.now();
    const advertisement: Advertisement = {
      kind: effective,
      mac: after.mac,
      devicePath: path,
      adapterPath,
      serviceData: after.serviceData,
      manufacturerData: after.manufacturerData,
      ...(after.name !== undefined ? { name: after.name } : {}),
      ...(after.localName !== undefined ? { localName: after.localName } : {}),
      ...(after.rssi !== undefined ? { rssi: after.rssi } : {}),
    };
    try {
      this.deps.onAdvertisement(advertisement);
    } catch (error) {
      this.deps.log.error({ err: message(error), mac: after.mac }, 'advertisement handler failed');
    }
  }

  private checkWatchdog(): void {
    if (!this.running || this.adapters.size === 0 || this.lastActivityAt === null) return;
    const quietMs = this.deps.clock.now() - this.lastActivityAt;
    if (quietMs < this.deps.noDataTimeoutMs) return;
    this.deps.log.warn({ quietMs }, 'no BLE advertisements for too long; re-arming discovery');
    this.lastActivityAt = this.deps.clock.now();
    for (const path of this.adapters.keys()) void this.arm(path, 'watchdog');
  }
}

/** `/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF` → `{ mac: 'AA:BB:CC:DD:EE:FF' }` (for signals that arrive before the device is known). */
function macFromPath(path: string): { mac?: string } {
  const match = /\/dev_([0-9A-Fa-f]{2}(?:_[0-9A-Fa-f]{2}){5})$/.exec(path);
  return match?.[1] ? { mac: match[1].replaceAll('_', ':').toUpperCase() } : {};
}

/** Exponential backoff with full jitter, at least 100 ms. */
function backoff(failures: number, baseMs = RETRY_BASE_MS): number {
  const ceiling = Math.min(RETRY_CAP_MS, baseMs * 2 ** Math.min(failures, 16));
  return Math.max(100, Math.round(Math.random() * ceiling));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
