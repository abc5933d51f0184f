import type { ConfigChange, ConfigDocument, ConfigSnapshot } from '../config/document.js';
import type { Logger } from '../log/logger.js';
import type { Config } from '../shared/config/schema.js';
import type { EventBus } from './event-bus.js';
import type { ConfigApplied, GatewayEvents, ReconcileOutcome } from './gateway.js';

export interface LiveConfigDeps {
  document: ConfigDocument;
  /** The version of the file the gateway was built from. */
  version: string;
  apply: (next: Config) => Promise<ReconcileOutcome>;
  bus: EventBus<GatewayEvents>;
  log: Logger;
}

/**
 * The running gateway follows its config file. An edit (API) and a reload (SIGHUP after a hand
 * edit) take the same path: the file is the truth, the gateway reconciles to it, and
 * `configApplied` tells listeners (the UI) the version now running. One change at a time.
 */
export class LiveConfig {
  private appliedVersion: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: LiveConfigDeps) {
    this.appliedVersion = deps.version;
  }

  get file(): string {
    return this.deps.document.file;
  }

  get version(): string {
    return this.appliedVersion;
  }

  /** The file as it is now, with its version (the one an edit must name). */
  read(): Promise<ConfigSnapshot> {
    return this.deps.document.read();
  }

  /** Throws ConfigConflictError for a stale `version` and ConfigError for an invalid result; then nothing changed. */
  update(changes: readonly ConfigChange[], version: string): Promise<ConfigApplied> {
    return this.serially(async () => this.follow(await this.deps.document.update(changes, version)));
  }

  /** Re-reads the file (after a hand edit) and follows it; an invalid file throws ConfigError and the gateway runs on unchanged. */
  reload(): Promise<ConfigApplied> {
    return this.serially(async () => {
      const snapshot = await this.deps.document.read();
      if (snapshot.version === this.appliedVersion) return { version: snapshot.version, restarted: [], needsRestart: [] };
      return this.follow(snapshot);
    });
  }

  private async follow(snapshot: ConfigSnapshot): Promise<ConfigApplied> {
    const outcome = await this.deps.apply(snapshot.config);
    this.appliedVersion = snapshot.version;
    const applied = { version: snapshot.version, ...outcome };
    this.deps.log.info(applied, 'running config version');
    this.deps.bus.emit('configApplied', applied);
    return applied;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
