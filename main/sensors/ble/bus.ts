/**
 * The small slice of D-Bus the BLE scanner needs. The production implementation wraps
 * @particle/dbus-next (dbus-next-bus.ts); unit tests drive the scanner with a scripted fake.
 * Incoming values are plain JS: variants are unwrapped, `ay` arrives as a Uint8Array/Buffer,
 * dictionaries as plain objects.
 */
export interface DbusSignal {
  sender: string;
  path: string;
  interface: string;
  member: string;
  body: unknown[];
}

export interface DbusMethodCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

/** An outgoing variant value (`v` in a signature). */
export class DbusVariant {
  constructor(
    readonly signature: string,
    readonly value: unknown,
  ) {}
}

/** A D-Bus error reply, e.g. `org.bluez.Error.InProgress`. */
export class DbusCallError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = 'DbusCallError';
  }
}

export interface DbusConnection {
  /** Resolves with the reply body, rejects with DbusCallError. */
  call(call: DbusMethodCall): Promise<unknown[]>;
  addMatch(rule: string): Promise<void>;
  onSignal(listener: (signal: DbusSignal) => void): void;
  /** Called once when the connection to the bus daemon is lost. */
  onClose(listener: (error?: Error) => void): void;
  close(): void;
}

export type DbusConnector = () => Promise<DbusConnection>;
