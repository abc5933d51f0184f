import { createRequire } from 'node:module';
import type { Logger } from '../log/logger.js';

/** The part of unix-dgram's socket this module uses. */
interface DatagramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (error?: Error) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DatagramSocket;
}

export type Notification = Partial<Record<'READY' | 'STOPPING' | 'WATCHDOG', '1'>> & { STATUS?: string };

/**
 * The sd_notify(3) datagram: one `KEY=value` per line. A newline inside STATUS would start another
 * assignment (a component name could then send READY=1), so line breaks become spaces.
 */
export function formatNotification(notification: Notification): Buffer {
  const lines = Object.entries(notification)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${String(value).replace(/[\r\n]+/g, ' ')}\n`);
  return Buffer.from(lines.join(''), 'utf8');
}

/** Why the notify socket cannot be used, or undefined when it can. */
export function unusableNotifySocket(address: string): string | undefined {
  if (address.startsWith('@')) return `NOTIFY_SOCKET ${address} is an abstract socket, which unix-dgram cannot address (it copies the path as a C string)`;
  if (!address.startsWith('/')) return `NOTIFY_SOCKET ${address} is not an absolute socket path`;
  return undefined;
}

/**
 * Tells systemd (Type=notify) when the gateway is ready and keeps its watchdog fed, so a hung event
 * loop gets the service restarted. The datagram goes from this very process, which lets the unit use
 * NotifyAccess=main. Node has no unix datagram sockets; unix-dgram (a small addon by a Node core
 * author) provides them and is loaded only under systemd. When it cannot be loaded (an Electron build
 * whose native modules were not rebuilt), one error says so and systemd's start timeout follows.
 * Does nothing outside systemd (no NOTIFY_SOCKET).
 */
export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | undefined;
  private socket: DatagramSocket | undefined;
  /** Set once the socket cannot be used, and after STOPPING. */
  private muted = false;

  constructor(private readonly deps: { env: NodeJS.ProcessEnv; log: Logger }) {}

  get enabled(): boolean {
    return Boolean(this.deps.env.NOTIFY_SOCKET);
  }

  ready(status: string): void {
    this.send({ READY: '1', STATUS: status });
    const watchdogUsec = Number(this.deps.env.WATCHDOG_USEC);
    if (this.enabled && Number.isFinite(watchdogUsec) && watchdogUsec > 0) {
      // Half the period, as sd_watchdog_enabled(3) recommends: one late ping is not a restart.
      this.watchdog = setInterval(() => this.send({ WATCHDOG: '1' }), watchdogUsec / 2000);
      this.watchdog.unref();
    }
  }

  /** The last notification: the socket closes after it (its handle would keep the process alive). */
  stopping(): void {
    clearInterval(this.watchdog);
    this.send({ STOPPING: '1' });
    this.socket?.close();
    this.socket = undefined;
    this.muted = true;
  }

  private send(notification: Notification): void {
    const address = this.deps.env.NOTIFY_SOCKET;
    if (!address || this.muted) return;
    const socket = this.socketFor(address);
    if (!socket) return;
    const message = formatNotification(notification);
    socket.send(message, 0, message.length, address, (error) => {
      if (error) this.deps.log.warn({ err: error.message, notification: Object.keys(notification) }, 'could not notify systemd');
    });
  }

  private socketFor(address: string): DatagramSocket | undefined {
    if (this.socket) return this.socket;
    const loaded = unusableNotifySocket(address) ?? loadUnixDgram();
    if (typeof loaded === 'string') {
      this.muted = true;
      this.deps.log.error({ problem: loaded }, 'cannot notify systemd: a Type=notify unit will time out starting');
      return undefined;
    }
    this.socket = loaded.createSocket('unix_dgram');
    this.socket.on('error', (error) => this.deps.log.warn({ err: error.message }, 'systemd notify socket error'));
    return this.socket;
  }
}

/** The addon, or why it does not load here. */
function loadUnixDgram(): UnixDgram | string {
  try {
    return createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  } catch (error) {
    return `the unix-dgram native module does not load in this runtime (${error instanceof Error ? error.message : String(error)}); rebuild native modules for it`;
  }
}
