import type { Logger } from '../log/logger.js';
import type { Component, ComponentHealth } from '../shared/lifecycle.js';

export interface SupervisorDeps {
  /** In dependency order: each component may rely on the ones before it. Names are unique. */
  components: Component[];
  log: Logger;
  /** Budget for the whole stop (and for stopping one component being replaced); an overrun is abandoned and logged. */
  stopTimeoutMs: number;
}

/**
 * Starts components in order and stops them in reverse. One failing component does not stop the
 * rest. While running, one component can be replaced, added or removed (a config change) without
 * touching the others; these operations and `stop` run one at a time.
 */
export class Supervisor {
  private readonly components: Component[];
  private readonly states = new Map<Component, ComponentHealth>();
  private readonly controller = new AbortController();
  private started = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: SupervisorDeps) {
    this.components = [...deps.components];
    for (const component of this.components) this.states.set(component, { name: component.name, state: 'idle' });
  }

  start(): Promise<void> {
    return this.serially(async () => {
      this.started = true;
      for (const component of this.components) {
        if (this.controller.signal.aborted) return;
        await this.startOne(component);
      }
    });
  }

  stop(): Promise<void> {
    this.controller.abort();
    return this.serially(async () => {
      const deadline = Date.now() + this.deps.stopTimeoutMs;
      for (const component of [...this.components].reverse()) {
        await this.stopOne(component, Math.max(0, deadline - Date.now()));
      }
    });
  }

  /**
   * Stops the component named `name` (when there is one) and puts `next` in its place, started
   * when the supervisor runs. Without such a component, `next` goes before the one named
   * `before`, or last. With `next` undefined the component is only removed.
   */
  replace(name: string, next: Component | undefined, placement: { before?: string } = {}): Promise<void> {
    return this.serially(async () => {
      if (this.controller.signal.aborted) return;
      let index = this.components.findIndex((c) => c.name === name);
      if (index >= 0) {
        const [previous] = this.components.splice(index, 1) as [Component];
        await this.stopOne(previous, this.deps.stopTimeoutMs);
        this.states.delete(previous);
      } else {
        index = placement.before === undefined ? -1 : this.components.findIndex((c) => c.name === placement.before);
        if (index < 0) index = this.components.length;
      }
      if (!next) return;
      this.components.splice(index, 0, next);
      this.states.set(next, { name: next.name, state: 'idle' });
      if (this.started) await this.startOne(next);
    });
  }

  has(name: string): boolean {
    return this.components.some((c) => c.name === name);
  }

  report(): ComponentHealth[] {
    return this.components.map((component) => ({ ...this.health(component) }));
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async startOne(component: Component): Promise<void> {
    const health = this.health(component);
    health.state = 'starting';
    delete health.error;
    try {
      await component.start(this.controller.signal);
      health.state = 'running';
      this.deps.log.info({ component: component.name }, 'component started');
    } catch (error) {
      health.state = 'failed';
      health.error = error instanceof Error ? error.message : String(error);
      this.deps.log.error({ component: component.name, err: error }, 'component failed to start; the rest keep running');
    }
  }

  private async stopOne(component: Component, timeoutMs: number): Promise<void> {
    const health = this.health(component);
    if (health.state === 'idle' || health.state === 'stopped') return;
    health.state = 'stopping';
    const outcome = await settleWithin(component.stop(), timeoutMs);
    if (outcome === 'timeout') {
      this.deps.log.error({ component: component.name, timeoutMs }, 'component did not stop in time');
    } else if (outcome instanceof Error) {
      this.deps.log.error({ component: component.name, err: outcome }, 'component failed to stop cleanly');
    } else {
      this.deps.log.info({ component: component.name }, 'component stopped');
    }
    health.state = 'stopped';
  }

  private health(component: Component): ComponentHealth {
    return this.states.get(component) as ComponentHealth;
  }
}

async function settleWithin(work: Promise<void>, ms: number): Promise<'done' | 'timeout' | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work.then(() => 'done' as const), timeout]);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    clearTimeout(timer);
  }
}
