import { join } from 'node:path';
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

/** `<gateway.dataDir>/api`: accounts, setup code, status token, the self-signed HTTPS pair. */
export function apiDataDir(dataDir: string): string {
  return join(dataDir, 'api');
}

export interface ControlApiDeps {
  backends: ApiBackends;
  ui: Pick<UiConfig, 'session'>;
  dataDir: string;
  metrics: Registry;
  log: Logger;
  now: () => number;
  throttle?: ThrottlePolicy;
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

  constructor(deps: ControlApiDeps) {
    this.dir = apiDataDir(deps.dataDir);
    this.auth = new Auth({
      dir: this.dir,
      limits: { idleMs: deps.ui.session.idleMinutes * 60_000, absoluteMs: deps.ui.session.absoluteHours * 3_600_000 },
      metrics: deps.metrics,
      log: deps.log,
      now: deps.now,
      throttle: deps.throttle,
    });
    this.events = new EventHub({ log: deps.log, now: deps.now });
    const handlers = createApiHandlers({ backends: deps.backends, auth: this.auth, httpsFingerprint: () => this.httpsFingerprint });
    this.dispatch = createDispatch({ handlers, auth: this.auth, log: deps.log });
  }

  async start(): Promise<void> {
    this.auth.start();
  }

  async stop(): Promise<void> {
    this.events.close();
  }
}
