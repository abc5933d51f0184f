import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Advertisement } from '../../../../main/sensors/ble/bluez.js';
import { DbusCallError, type DbusConnection, type DbusMethodCall, type DbusSignal } from '../../../../main/sensors/ble/bus.js';
import { BleScanner, type RearmReason } from '../../../../main/sensors/ble/scanner.js';
import { silentLogger } from '../../../../main/log/logger.js';
import { systemClock } from '../../../../main/shared/clock.js';

type Responder = (call: DbusMethodCall) => unknown[];

/** A scripted bus at the wire: replies per member, records calls, and lets the test emit signals. */
class FakeBus implements DbusConnection {
  readonly calls: string[] = [];
  private signalListener: ((signal: DbusSignal) => void) | undefined;
  private closeListener: ((error?: Error) => void) | undefined;
  closed = false;

  constructor(private readonly responders: Record<string, Responder>) {}

  async call(call: DbusMethodCall): Promise<unknown[]> {
    this.calls.push(`${call.path} ${call.member}`);
    const responder = this.responders[call.member];
    return responder ? responder(call) : [];
  }

  async addMatch(): Promise<void> {}

  onSignal(listener: (signal: DbusSignal) => void): void {
    this.signalListener = listener;
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListener = listener;
  }

  close(): void {
    this.closed = true;
  }

  emit(path: string, iface: string, member: string, body: unknown[]): void {
    this.signalListener?.({ sender: ':1.1', path, interface: iface, member, body });
  }

  drop(): void {
    this.closeListener?.(new Error('daemon went away'));
  }

  count(member: string): number {
    return this.calls.filter((c) => c.endsWith(` ${member}`)).length;
  }
}

const ADAPTER = '/org/bluez/hci0';
const DEVICE = `${ADAPTER}/dev_AA_BB_CC_DD_EE_FF`;

function managedObjects(extra: Record<string, unknown> = {}): Responder {
  return () => [{ [ADAPTER]: { 'org.bluez.Adapter1': { Powered: true, Discovering: false } }, ...extra }];
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function scanner(buses: FakeBus[], options: { noDataTimeoutMs?: number; adapter?: string } = {}) {
  const adverts: Advertisement[] = [];
  const rearms: RearmReason[] = [];
  let next = 0;
  const instance = new BleScanner({
    connect: async () => buses[Math.min(next++, buses.length - 1)] as FakeBus,
    log: silentLogger,
    clock: systemClock,
    noDataTimeoutMs: options.noDataTimeoutMs ?? 60_000,
    onAdvertisement: (a) => adverts.push(a),
    onRearm: (r) => rearms.push(r),
    retryBaseMs: 20,
    ...(options.adapter ? { adapter: options.adapter } : {}),
  });
  return { instance, adverts, rearms };
}

describe('BleScanner (scripted bus)', () => {
  it('treats InProgress from StartDiscovery as running and reports devices by kind', async () => {
    const bus = new FakeBus({
      NameHasOwner: () => [true],
      GetManagedObjects: managedObjects({ [DEVICE]: { 'org.bluez.Device1': { Address: 'AA:BB:CC:DD:EE:FF', RSSI: -70 } } }),
      StartDiscovery: () => {
        throw new DbusCallError('org.bluez.Error.InProgress', 'Operation already in progress');
      },
    });
    const { instance, adverts } = scanner([bus]);
    await instance.start();
    try {
      await until(() => instance.status().adapters[0]?.discovering === true, 'discovery');
      assert.equal(bus.count('SetDiscoveryFilter'), 1);
      await sleep(100);
      assert.equal(bus.count('StartDiscovery'), 1, 'no retry loop after InProgress');
      bus.emit(DEVICE, 'org.freedesktop.DBus.Properties', 'PropertiesChanged', ['org.bluez.Device1', { RSSI: -60 }, []]);
      bus.emit(DEVICE, 'org.freedesktop.DBus.Properties', 'PropertiesChanged', [
        'org.bluez.Device1',
        { ServiceData: { '0000fcd2-0000-1000-8000-00805f9b34fb': Uint8Array.of(0x40, 0x01, 0x64) } },
        [],
      ]);
      assert.deepEqual(adverts.map((a) => [a.kind, a.mac, a.rssi]), [
        ['cached', 'AA:BB:CC:DD:EE:FF', -70],
        ['rssi', 'AA:BB:CC:DD:EE:FF', -60],
        ['data', 'AA:BB:CC:DD:EE:FF', -60],
      ]);
    } finally {
      await instance.stop();
    }
  });

  it('waits on NotReady and starts discovery once the adapter is powered', async () => {
    let powered = false;
    const notReady = () => {
      if (!powered) throw new DbusCallError('org.bluez.Error.NotReady', 'Resource Not Ready');
      return [];
    };
    const bus = new FakeBus({ NameHasOwner: () => [true], GetManagedObjects: managedObjects(), SetDiscoveryFilter: notReady, StartDiscovery: notReady });
    const { instance, rearms } = scanner([bus]);
    await instance.start();
    try {
      await until(() => bus.count('SetDiscoveryFilter') >= 2, 'a retry after NotReady');
      assert.equal(bus.count('StartDiscovery'), 0);
      assert.equal(instance.status().adapters[0]?.discovering, false);
      powered = true;
      bus.emit(ADAPTER, 'org.freedesktop.DBus.Properties', 'PropertiesChanged', ['org.bluez.Adapter1', { Powered: true }, []]);
      await until(() => instance.status().adapters[0]?.discovering === true, 'discovery after power-on');
      assert.ok(rearms.includes('powered-on') || rearms.includes('retry'));
    } finally {
      await instance.stop();
    }
  });

  it('re-arms when discovery stops, when the watchdog sees no data, and after the bus connection drops', async () => {
    const first = new FakeBus({ NameHasOwner: () => [true], GetManagedObjects: managedObjects() });
    const second = new FakeBus({ NameHasOwner: () => [true], GetManagedObjects: managedObjects() });
    const { instance, rearms } = scanner([first, second], { noDataTimeoutMs: 300 });
    await instance.start();
    try {
      await until(() => first.count('StartDiscovery') === 1, 'first discovery');
      first.emit(ADAPTER, 'org.freedesktop.DBus.Properties', 'PropertiesChanged', ['org.bluez.Adapter1', { Discovering: false }, []]);
      await until(() => rearms.includes('discovery-stopped') && first.count('StartDiscovery') >= 2, 're-arm after Discovering=false');
      await until(() => rearms.includes('watchdog'), 'watchdog re-arm');
      first.drop();
      await until(() => second.count('StartDiscovery') >= 1, 'discovery on the new connection');
      assert.equal(second.count('GetManagedObjects'), 1);
    } finally {
      await instance.stop();
    }
    assert.ok(second.closed);
    assert.ok(second.count('StopDiscovery') >= 1, 'stop() ends our discovery session');
  });

  it('uses only the configured adapter', async () => {
    const bus = new FakeBus({
      NameHasOwner: () => [true],
      GetManagedObjects: () => [
        {
          '/org/bluez/hci0': { 'org.bluez.Adapter1': { Powered: true } },
          '/org/bluez/hci1': { 'org.bluez.Adapter1': { Powered: true } },
          '/org/bluez/hci0/dev_11_11_11_11_11_11': { 'org.bluez.Device1': { Address: '11:11:11:11:11:11' } },
        },
      ],
    });
    const { instance, adverts } = scanner([bus], { adapter: 'hci1' });
    await instance.start();
    try {
      await until(() => instance.status().adapters.some((a) => a.discovering), 'discovery');
      assert.deepEqual(instance.status().adapters.map((a) => a.path), ['/org/bluez/hci1']);
      assert.ok(!bus.calls.some((c) => c.startsWith('/org/bluez/hci0 ')));
      assert.deepEqual(adverts, []);
    } finally {
      await instance.stop();
    }
  });
});
