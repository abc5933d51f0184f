import type { Logger } from '../log/logger.js';
import type { Session } from './session.js';
import { topicMatches } from './topics.js';

export type ControlHandler = (payload: Buffer, topic: string) => void | Promise<void>;

/** Control topics other modules subscribed to, kept across reconnects, and the delivery of their messages. */
export class ControlSubscriptions {
  private readonly handlers = new Map<string, Set<ControlHandler>>();

  constructor(private readonly deps: { log: Logger; session: () => Session | undefined }) {}

  /** The filters to subscribe to on every new connection. */
  filters(): string[] {
    return [...this.handlers.keys()];
  }

  /** Adds `handler` for `filter` (subscribing now if connected); returns the unsubscribe function. */
  add(filter: string, handler: ControlHandler): () => void {
    let handlers = this.handlers.get(filter);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(filter, handlers);
      const session = this.deps.session();
      if (session?.open) session.client.subscribe(filter, { qos: 1 });
    }
    handlers.add(handler);
    return () => {
      const set = this.handlers.get(filter);
      set?.delete(handler);
      if (set?.size === 0) {
        this.handlers.delete(filter);
        const session = this.deps.session();
        if (session?.open) session.client.unsubscribe(filter);
      }
    };
  }

  /** Hands a message to every handler whose filter matches its topic; a failing handler is logged, not thrown. */
  dispatch(payload: Buffer, topic: string): void {
    for (const [filter, handlers] of this.handlers) {
      if (!topicMatches(filter, topic)) continue;
      for (const handler of handlers) {
        Promise.resolve()
          .then(() => handler(payload, topic))
          .catch((error: unknown) => this.deps.log.error({ err: error, topic }, 'uplink: control handler failed'));
      }
    }
  }
}
