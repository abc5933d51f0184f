import type { Component } from '../shared/lifecycle.js';
import { BufferEngine, type BufferDeps } from './engine.js';
import { MemoryStore } from './memory-store.js';
import type { Store } from './store.js';

/**
 * The buffer without durability, for unit tests of its users. Same logic as SqliteBuffer and the
 * same conformance suite; `store` may be shared by successive instances to simulate a restart.
 */
export class MemoryBuffer extends BufferEngine implements Component {
  readonly name = 'buffer';

  constructor(
    deps: BufferDeps,
    private readonly memory: Store = new MemoryStore(),
  ) {
    super(deps);
  }

  async start(_signal: AbortSignal): Promise<void> {
    this.attach(this.memory);
  }

  async stop(): Promise<void> {
    this.detach()?.close();
  }
}
