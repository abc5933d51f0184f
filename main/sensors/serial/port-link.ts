import { realpath } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import type { Logger } from '../../log/logger.js';
import type { SerialLink } from '../../shared/config/serial.js';
import { Backoff } from '../../shared/backoff.js';
import { describeMatch, matchingPorts, type PortDiscovery } from './discovery.js';
import type { SerialMetrics } from './metrics.js';

/** The part of a serialport stream the link uses; `SerialPort` and `SerialPortMock` both fit. */
export interface PortHandle {
  readonly isOpen: boolean;
  open(callback: (error: Error | null) => void): void;
  write(data: Buffer, callback: (error: Error | null | undefined) => void): boolean;
  close(callback: (error: Error | null) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches the stream's own listener signature
  on(event: 'data' | 'close' | 'error', listener: (...args: any[]) => void): unknown;
  removeAllListeners(): unknown;
}

export interface PortSettings {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
}

/** Creates an unopened port; the wire seam (real bindings, or `SerialPortMock` in a unit test). */
export type PortOpener = (settings: PortSettings) => PortHandle;

export const systemPortOpener: PortOpener = (settings) => new SerialPort({ ...settings, autoOpen: false });

export interface LinkEvents {
  opened(path: string): void;
  data(chunk: Buffer): void;
  lost(reason: string): void;
}

export interface PortLinkDeps {
  config: SerialLink;
  opener: PortOpener;
  discovery: PortDiscovery;
  metrics: SerialMetrics;
  log: Logger;
  events: LinkEvents;
  random?: () => number;
}

/** Reopen delays stay short so a replugged sensor is read again within about 2 s; a port open for 10 s resets them. */
const BACKOFF = { initialMs: 250, maxMs: 2000, stableMs: 10_000 };
const CLOSE_TIMEOUT_MS = 2000;
/**
 * How often an open port's device node is checked. The driver's hang-up is not always delivered
 * to an idle reader (seen with ptys), but a vanished or replaced device node always shows here.
 */
const PRESENCE_CHECK_MS = 1000;

/**
 * Keeps one serial port open: resolves its path (fixed, by-id link, or USB match), opens it and,
 * when it disappears or fails to open, retries with capped exponential backoff and full jitter
 * until stopped. Never throws: a missing device is a state, reported through `events.lost`.
 */
export class PortLink {
  private handle: PortHandle | undefined;
  private stopped = true;
  private failures = 0;
  private wakeSleep: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly deps: PortLinkDeps) {
    this.backoff = new Backoff({ ...BACKOFF, ...(deps.random && { random: deps.random }) });
  }

  get isOpen(): boolean {
    return this.handle?.isOpen ?? false;
  }

  /** Starts connecting in the background; resolves at once (a missing device must not block startup). */
  start(): void {
    this.stopped = false;
    this.deps.metrics.portOpen.set({ port: this.deps.config.id }, 0);
    void this.connectLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.sleepTimer);
    clearInterval(this.presenceTimer);
    this.wakeSleep?.();
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await closeQuietly(handle);
    this.deps.metrics.portOpen.set({ port: this.deps.config.id }, 0);
  }

  write(data: Buffer): Promise<void> {
    const handle = this.handle;
    if (!handle?.isOpen) return Promise.reject(new Error('port is not open'));
    return new Promise((resolve, reject) => {
      handle.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopped && this.handle === undefined) {
      try {
        await this.openOnce();
        return;
      } catch (error) {
        this.failures++;
        const message = (error as Error).message;
        // The first failure is worth a warning; a sensor left unplugged for days is not worth thousands.
        if (this.failures === 1) this.deps.log.warn({ port: this.deps.config.id, err: message }, 'cannot open serial port; retrying with backoff');
        else this.deps.log.debug({ port: this.deps.config.id, err: message, attempt: this.failures }, 'serial port still unavailable');
        await this.sleep(this.backoff.nextDelay(performance.now()));
      }
    }
  }

  private async openOnce(): Promise<void> {
    const path = await this.resolvePath();
    // The device node behind a by-id or other link, to notice later when it is gone or replaced.
    const device = await realpath(path).catch(() => undefined);
    const { config } = this.deps;
    const handle = this.deps.opener({ path, baudRate: config.baudRate, dataBits: config.dataBits, parity: config.parity, stopBits: config.stopBits });
    handle.on('error', (error: Error) => {
      if (this.handle === handle && !handle.isOpen) this.onLost(handle, error.message);
      else this.deps.log.warn({ port: config.id, err: error.message }, 'serial port error');
    });
    await new Promise<void>((resolve, reject) => handle.open((error) => (error ? reject(error) : resolve())));
    if (this.stopped) {
      await closeQuietly(handle);
      return;
    }
    this.handle = handle;
    this.backoff.connected(performance.now());
    if (device !== undefined) this.watchPresence(handle, path, device);
    handle.on('data', (chunk: Buffer) => this.deps.events.data(chunk));
    handle.on('close', (error?: Error) => this.onLost(handle, error?.message ?? 'closed'));
    this.deps.metrics.portOpen.set({ port: config.id }, 1);
    this.deps.log.info({ port: config.id, path, afterFailures: this.failures }, 'serial port open');
    this.failures = 0;
    this.deps.events.opened(path);
  }

  private async resolvePath(): Promise<string> {
    const { path, match } = this.deps.config;
    if (path !== undefined) return path;
    const usb = match ?? {};
    const found = matchingPorts(await this.deps.discovery.list(), usb);
    if (found.length === 0) throw new Error(`no serial port matches ${describeMatch(usb)}`);
    if (found.length > 1) {
      throw new Error(`${found.length} serial ports match ${describeMatch(usb)} (${found.map((p) => p.path).join(', ')}): add serialNumber to tell them apart`);
    }
    const port = found[0] as { path: string; byId?: string };
    return port.byId ?? port.path;
  }

  /** Declares the port lost when `path` no longer leads to the device node that was opened. */
  private watchPresence(handle: PortHandle, path: string, device: string): void {
    clearInterval(this.presenceTimer);
    this.presenceTimer = setInterval(() => {
      realpath(path).then(
        (current) => current !== device && this.onLost(handle, `${path} now leads to ${current}`),
        () => this.onLost(handle, `${path} is gone`),
      );
    }, PRESENCE_CHECK_MS);
    this.presenceTimer.unref();
  }

  private onLost(handle: PortHandle, reason: string): void {
    if (this.handle !== handle) return;
    this.handle = undefined;
    clearInterval(this.presenceTimer);
    handle.removeAllListeners();
    handle.on('error', () => {});
    void closeQuietly(handle);
    this.deps.metrics.portOpen.set({ port: this.deps.config.id }, 0);
    this.deps.metrics.reopens.inc({ port: this.deps.config.id });
    this.deps.log.warn({ port: this.deps.config.id, reason }, 'serial port lost; reopening');
    this.deps.events.lost(reason);
    if (this.stopped) return;
    void this.sleep(this.backoff.nextDelay(performance.now())).then(() => this.connectLoop());
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }
}

/** Closes a port, giving up after a while: a hung-up device may never confirm. */
export function closeQuietly(handle: PortHandle): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    if (!handle.isOpen) return done();
    handle.close(() => done());
  });
}
