import type { Logger } from '../log/logger.js';

type Listener<T> = (payload: T) => void;

/**
 * Typed publish/subscribe inside one gateway. Emitters (buffer, identity, config) need not know
 * who listens, so a component replaced at runtime (the uplink after a cloud change) subscribes on
 * start and unsubscribes on stop instead of being captured in closures. A listener that throws is
 * logged and the others still run: an emitter on the hot path must never fail because of one.
 */
export class EventBus<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly deps: { log: Logger }) {}

  /** Returns the function that removes this listener. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        this.deps.log.error({ event: String(event), err: error }, 'event listener failed');
      }
    }
  }
}
