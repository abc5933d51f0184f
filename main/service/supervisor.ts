import type { Logger } from '../log/logger.js';
import type { Component, ComponentHealth } from '../shared/lifecycle.js';

export interface SupervisorDeps {
  /** In dependency order: each component may rely on the ones before it. */
  components: Component[];
  log: Logger;
  /** Budget for the whole stop; a component that overruns is abandoned and logged. */
  stopTimeoutMs: number;
}

/** Starts components in order and stops them in reverse. One failing component does not stop the rest. */
export class Supervisor {
  private readonly states = new Map<Component, ComponentHealth>();
  private readonly controller = new AbortController();

  constructor(private readonly deps: SupervisorDeps) {
    for (const component of deps.components) this.states.set(component, { name: component.name, state: 'idle' });
  }

  async start(): Promise<void> {
    for (const component of this.deps.components) {
      if (this.controller.signal.aborted) return;
      const health = this.health(component);
      health.state = 'starting';
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
  }

  async stop(): Promise<void> {
    this.controller.abort();
    const deadline = Date.now() + this.deps.stopTimeoutMs;
    for (const component of [...this.deps.components].reverse()) {
      const health = this.health(component);
      if (health.state === 'idle' || health.state === 'stopped') continue;
      health.state = 'stopping';
      const remaining = Math.max(0, deadline - Date.now());
      const outcome = await settleWithin(component.stop(), remaining);
      if (outcome === 'timeout') {
        this.deps.log.error({ component: component.name, timeoutMs: remaining }, 'component did not stop in time');
      } else if (outcome instanceof Error) {
        this.deps.log.error({ component: component.name, err: outcome }, 'component failed to stop cleanly');
      } else {
        this.deps.log.info({ component: component.name }, 'component stopped');
      }
      health.state = 'stopped';
    }
  }

  report(): ComponentHealth[] {
    return this.deps.components.map((component) => ({ ...this.health(component) }));
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
