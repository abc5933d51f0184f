import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { UiConfig } from '../shared/config/gateway.js';
import type { Component } from '../shared/lifecycle.js';
import type { ApiBackends } from './backends.js';
import { Auth } from './auth.js';
import { createDispatch, type Dispatch } from './dispatch.js';
import { EventHub } from './events.js';
import { createApiHandlers } from './handlers.js';
import type { ThrottlePolicy } from './login-throttle.js';
import { apiDataDir } from '../config/location.js';

/** How often a changed status is pushed to event listeners (the UI no longer polls). */
export const STATUS_EVENT_INTERVAL_MS = 2000;

export interface ControlApiDeps {
  backends: ApiBackends;
  ui: Pick<UiConfig, 'session'>;
  dataDir: string;
  metrics: Registry;
  log: Logger;
  now: () => number;
  throttle?: ThrottlePolicy;
  /**
   * The hub backends publish to; give one when backends are built before the ControlApi (they need
   * it in their deps). Backends may also be assigned to `backends` later: handlers look them up per call.
   */
  events?: EventHub;
}

/**
 * The transport-free control API: accounts and sessions, the handler table, the one dispatch
 * path and the event hub. Built once per gateway; the HTTP server (restarted on a ui change) and
 * the Electron IPC both call through it.
 */
export class ControlApi implements Component {
  readonly name = 'control-api';
  readonly auth: Auth;
  readonly events: EventHub;
  readonly dispatch: Dispatch;
  readonly dir: string;
  /** Set by the HTTPS server once its certificate is known. */
  httpsFingerprint: string | null = null;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastStatus = '';

  constructor(private readonly deps: ControlApiDeps) {
    this.dir = apiDataDir(deps.dataDir);
    this.auth = new Auth({
      dir: this.dir,
      limits: { idleMs: deps.ui.session.idleMinutes * 60_000, absoluteMs: deps.ui.session.absoluteHours * 3_600_000 },
      metrics: deps.metrics,
      log: deps.log,
      now: deps.now,
      throttle: deps.throttle,
    });
    this.events = deps.events ?? new EventHub({ log: deps.log, now: deps.now });
    const handlers = createApiHandlers({ backends: deps.backends, auth: this.auth, httpsFingerprint: () => this.httpsFingerprint });
    this.dispatch = createDispatch({ handlers, auth: this.auth, log: deps.log });
  }

  async start(): Promise<void> {
    this.auth.start();
    this.statusTimer = setInterval(() => void this.publishStatus(), STATUS_EVENT_INTERVAL_MS);
    this.statusTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    this.events.close();
  }

  /** A `status` event when someone listens and the status changed since the last one. */
  private async publishStatus(): Promise<void> {
    if (!this.events.watched) return;
    try {
      const status = await this.deps.backends.status.status();
      const text = JSON.stringify(status);
      if (text === this.lastStatus) return;
      this.lastStatus = text;
      this.events.publish({ type: 'status', status });
    } catch (error) {
      this.deps.log.warn({ err: error }, 'could not read the status for the event stream');
    }
  }
}
