import { execFile } from 'node:child_process';
import type { Logger } from '../log/logger.js';

const NOTIFY_COMMAND = 'systemd-notify';

/**
 * Tells systemd (Type=notify) when the gateway is ready and keeps its watchdog fed, so a hung
 * event loop gets the service restarted. Node cannot send on a unix datagram socket, so this
 * speaks through `systemd-notify --pid`, which the unit allows with NotifyAccess=all. Does
 * nothing outside systemd (no NOTIFY_SOCKET).
 */
export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { env: NodeJS.ProcessEnv; log: Logger }) {}

  get enabled(): boolean {
    return Boolean(this.deps.env.NOTIFY_SOCKET);
  }

  ready(status: string): void {
    this.send(['READY=1', `STATUS=${status}`]);
    const watchdogUsec = Number(this.deps.env.WATCHDOG_USEC);
    if (this.enabled && Number.isFinite(watchdogUsec) && watchdogUsec > 0) {
      // Half the period, as sd_watchdog_enabled(3) recommends: one late ping is not a restart.
      this.watchdog = setInterval(() => this.send(['WATCHDOG=1']), watchdogUsec / 2000);
      this.watchdog.unref();
    }
  }

  stopping(): void {
    clearInterval(this.watchdog);
    this.send(['STOPPING=1']);
  }

  private send(assignments: string[]): void {
    if (!this.enabled) return;
    execFile(NOTIFY_COMMAND, [`--pid=${process.pid}`, ...assignments], { env: this.deps.env, timeout: 5000 }, (error) => {
      if (error) this.deps.log.warn({ err: error.message, assignments }, 'could not notify systemd');
    });
  }
}
