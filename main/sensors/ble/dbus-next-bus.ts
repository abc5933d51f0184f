import type { EventEmitter } from 'node:events';
import dbus from '@particle/dbus-next';
import { DbusCallError, DbusVariant, type DbusConnection, type DbusMethodCall, type DbusSignal } from './bus.js';

const CALL_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` or /var/run/dbus/system_bus_socket). */
export async function connectSystemBus(): Promise<DbusConnection> {
  const bus = dbus.systemBus();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('timed out connecting to the D-Bus system bus')), CONNECT_TIMEOUT_MS);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      bus.removeAllListeners();
      try {
        bus.disconnect();
      } catch {
        // the stream may never have opened
      }
      reject(new Error(`cannot connect to the D-Bus system bus: ${error.message}`));
    };
    bus.once('error', fail);
    bus.once('connect', () => {
      clearTimeout(timer);
      bus.off('error', fail);
      resolve();
    });
  });
  return new DbusNextConnection(bus);
}

class DbusNextConnection implements DbusConnection {
  private readonly closeListeners: Array<(error?: Error) => void> = [];
  private closed = false;
  private readonly pending = new Set<(error: Error) => void>();

  constructor(private readonly bus: dbus.MessageBus) {
    bus.on('error', (error: Error) => this.markClosed(error));
    // MessageBus does not forward the stream's end; its connection object does.
    const connection = (bus as unknown as { _connection?: EventEmitter })._connection;
    connection?.on('end', () => this.markClosed(new Error('the bus daemon closed the connection')));
  }

  async call(call: DbusMethodCall): Promise<unknown[]> {
    if (this.closed) throw new DbusCallError('org.freedesktop.DBus.Error.Disconnected', 'not connected to the bus');
    const message = new dbus.Message({
      destination: call.destination,
      path: call.path,
      interface: call.interface,
      member: call.member,
      signature: call.signature ?? '',
      body: (call.body ?? []).map(toWire),
    });
    let abort: ((error: Error) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      abort = reject;
      timer = setTimeout(
        () => reject(new DbusCallError('org.freedesktop.DBus.Error.Timeout', `${call.interface}.${call.member}: no reply`)),
        CALL_TIMEOUT_MS,
      );
    });
    this.pending.add(abort as (error: Error) => void);
    try {
      const reply = await Promise.race([this.bus.call(message), guard]);
      return (reply?.body ?? []).map(fromWire);
    } catch (error) {
      if (error instanceof dbus.DBusError) throw new DbusCallError(error.type, error.text ?? error.message);
      throw error;
    } finally {
      clearTimeout(timer);
      this.pending.delete(abort as (error: Error) => void);
    }
  }

  async addMatch(rule: string): Promise<void> {
    await this.call({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'AddMatch',
      signature: 's',
      body: [rule],
    });
  }

  onSignal(listener: (signal: DbusSignal) => void): void {
    this.bus.on('message', (message: dbus.Message) => {
      if (message.type !== dbus.MessageType.SIGNAL) return;
      listener({
        sender: message.sender,
        path: message.path,
        interface: message.interface,
        member: message.member,
        body: (message.body ?? []).map(fromWire),
      });
    });
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.bus.removeAllListeners('message');
    try {
      this.bus.disconnect();
    } catch {
      // already gone
    }
  }

  private markClosed(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    const lost = new DbusCallError('org.freedesktop.DBus.Error.Disconnected', error.message);
    for (const abort of this.pending) abort(lost);
    for (const listener of this.closeListeners) listener(error);
  }
}

function toWire(value: unknown): unknown {
  if (value instanceof DbusVariant) return new dbus.Variant(value.signature, toWire(value.value));
  if (Array.isArray(value)) return value.map(toWire);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

function fromWire(value: unknown): unknown {
  if (value instanceof dbus.Variant) return fromWire(value.value);
  if (Array.isArray(value)) return value.map(fromWire);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
