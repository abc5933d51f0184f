import { spawnTied } from './tied-spawn.js';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { DbusConnection } from '../../main/sensors/ble/bus.js';
import { connectSystemBus } from '../../main/sensors/ble/dbus-next-bus.js';

/** fieldgate's own dbusmock template, loaded on top of bluez5. */
export const BLUEZ_ADVERTS_TEMPLATE = fileURLToPath(new URL('../../../test/fixtures/ble/bluez_adverts.py', import.meta.url));

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/**
 * A private dbus-daemon (allow-all policy, socket in `dir`) standing in for the system bus.
 * Point code under test at it with DBUS_SYSTEM_BUS_ADDRESS.
 */
export class PrivateBus {
  private constructor(
    readonly address: string,
    private daemon: ChildProcess,
    private readonly config: string,
  ) {}

  static async start(dir: string): Promise<PrivateBus> {
    const config = join(dir, 'bus.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${join(dir, 'system_bus_socket')}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
    );
    const { daemon, address } = await PrivateBus.spawnDaemon(config);
    return new PrivateBus(address, daemon, config);
  }

  /** Like the system bus restarting: every client loses its connection; the address stays the same. */
  async restart(): Promise<void> {
    await stopChild(this.daemon);
    const { daemon, address } = await PrivateBus.spawnDaemon(this.config);
    if (address !== this.address) throw new Error(`bus address changed from ${this.address} to ${address}`);
    this.daemon = daemon;
  }

  private static async spawnDaemon(config: string): Promise<{ daemon: ChildProcess; address: string }> {
    const daemon = spawnTied('dbus-daemon', [`--config-file=${config}`, '--print-address=1', '--nofork'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('dbus-daemon did not print its address')), 20_000);
      daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
      daemon.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n')[0];
        if (output.includes('\n') && line) {
          clearTimeout(timer);
          // Without the guid, so the address stays valid across restarts of the daemon.
          resolve(line.trim().replace(/,guid=[0-9a-f]+$/, ''));
        }
      });
    });
    return { daemon, address };
  }

  async stop(): Promise<void> {
    await stopChild(this.daemon);
  }
}

/**
 * `python3 -m dbusmock --template bluez5` plus BLUEZ_ADVERTS_TEMPLATE, on a PrivateBus.
 * Requires process.env.DBUS_SYSTEM_BUS_ADDRESS to point at that bus (the helper's own client
 * connects the way the scanner does).
 */
export class BluezMock {
  private process: ChildProcess | undefined;
  private client: DbusConnection | undefined;

  constructor(private readonly bus: PrivateBus) {}

  async start(): Promise<void> {
    this.process = spawnTied('/usr/bin/python3', ['-m', 'dbusmock', '--template', 'bluez5'], {
      env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: this.bus.address },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.client ??= await connectSystemBus();
    const deadline = Date.now() + 30_000;
    while (!(await this.nameHasOwner())) {
      if (this.process.exitCode !== null) throw new Error(`dbusmock exited with ${this.process.exitCode}`);
      if (Date.now() > deadline) throw new Error('dbusmock did not claim org.bluez');
      await sleep(50);
    }
    await this.call('/', 'org.freedesktop.DBus.Mock', 'AddTemplate', 'sa{sv}', [BLUEZ_ADVERTS_TEMPLATE, {}]);
  }

  /** After the bus daemon restarted: the helper's own client must connect again. */
  forgetConnection(): void {
    this.client?.close();
    this.client = undefined;
  }

  /** Like bluetoothd crashing: SIGKILL, no signals about its objects. */
  async kill(): Promise<void> {
    if (this.process) await stopChild(this.process);
    this.process = undefined;
  }

  async stop(): Promise<void> {
    await this.kill();
    this.client?.close();
    this.client = undefined;
  }

  async addAdapter(name: string): Promise<string> {
    const [path] = await this.call('/', 'org.bluez.Mock', 'AddAdapter', 'ss', [name, 'fieldgate-test']);
    return path as string;
  }

  async removeAdapter(name: string): Promise<void> {
    await this.call('/', 'org.bluez.Mock', 'RemoveAdapterWithDevices', 's', [name]);
  }

  async addDevice(adapter: string, mac: string, alias: string): Promise<string> {
    const [path] = await this.call('/', 'org.bluez.Mock', 'AddDevice', 'sss', [adapter, mac, alias]);
    return path as string;
  }

  async removeDevice(devicePath: string): Promise<void> {
    const adapterPath = devicePath.split('/').slice(0, 4).join('/');
    await this.call(adapterPath, 'org.bluez.Adapter1', 'RemoveDevice', 'o', [devicePath]);
  }

  /** One advertisement with service data (UUID → hex) and/or manufacturer data (company id → hex). */
  async advertise(devicePath: string, rssi: number, payloads: { serviceData?: Record<string, string>; manufacturerData?: Record<number, string> }): Promise<void> {
    const serviceData = Object.fromEntries(Object.entries(payloads.serviceData ?? {}).map(([uuid, hex]) => [uuid, Buffer.from(hex, 'hex')]));
    const manufacturerData = Object.fromEntries(Object.entries(payloads.manufacturerData ?? {}).map(([id, hex]) => [id, Buffer.from(hex, 'hex')]));
    await this.call('/', 'org.bluez.Mock', 'Advertise', 'sna{say}a{qay}', [devicePath, rssi, serviceData, manufacturerData]);
  }

  async setRssi(devicePath: string, rssi: number): Promise<void> {
    await this.call('/', 'org.bluez.Mock', 'SetRssi', 'sn', [devicePath, rssi]);
  }

  async discovering(adapterPath: string): Promise<boolean> {
    const [value] = await this.call(adapterPath, 'org.freedesktop.DBus.Properties', 'Get', 'ss', ['org.bluez.Adapter1', 'Discovering']);
    return value === true;
  }

  /** The dbusmock call log of an object, e.g. to see StartDiscovery calls. */
  async methodCalls(path: string, method: string): Promise<number> {
    const [calls] = await this.call(path, 'org.freedesktop.DBus.Mock', 'GetMethodCalls', 's', [method]);
    return Array.isArray(calls) ? calls.length : 0;
  }

  private async nameHasOwner(): Promise<boolean> {
    const [owned] = await (this.client as DbusConnection).call({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'NameHasOwner',
      signature: 's',
      body: ['org.bluez'],
    });
    return owned === true;
  }

  private call(path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    if (!this.client) throw new Error('BluezMock not started');
    return this.client.call({ destination: 'org.bluez', path, interface: iface, member, signature, body });
  }
}

