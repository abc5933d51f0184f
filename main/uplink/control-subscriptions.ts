import type { Logger } from '../log/logger.js';
import type { Session } from './session.js';
import { topicMatches } from './topics.js';

/** Gets a control message's payload and its suffix (e.g. `cert/issued`). */
export type ControlHandler = (payload: Buffer, suffix: string) => void | Promise<void>;

export interface ControlSubscriptionsDeps {
  log: Logger;
  session: () => Session | undefined;
  /** The topic filter for a suffix filter, or undefined where the platform delivers control messages without one. */
  topicFilter: (suffixFilter: string) => string | undefined;
}

/** Control suffixes other modules subscribed to, kept across reconnects, and the delivery of their messages. */
export class ControlSubscriptions {
  private readonly handlers = new Map<string, Set<ControlHandler>>();

  constructor(private readonly deps: ControlSubscriptionsDeps) {}

  /** The topic filters to subscribe to on every new connection. */
  filters(): string[] {
    return [...this.handlers.keys()].flatMap((suffixFilter) => this.deps.topicFilter(suffixFilter) ?? []);
  }

  /** Adds `handler` for the suffix filter `suffixFilter` (subscribing now if connected); returns the unsubscribe function. */
  add(suffixFilter: string, handler: ControlHandler): () => void {
    let handlers = this.handlers.get(suffixFilter);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(suffixFilter, handlers);
      this.withTopicFilter(suffixFilter, (session, filter) => session.client.subscribe(filter, { qos: 1 }));
    }
    handlers.add(handler);
    return () => {
      const set = this.handlers.get(suffixFilter);
      set?.delete(handler);
      if (set?.size === 0) {
        this.handlers.delete(suffixFilter);
        this.withTopicFilter(suffixFilter, (session, filter) => session.client.unsubscribe(filter));
      }
    };
  }

  /** Hands a message to every handler whose suffix filter matches its suffix; a failing handler is logged, not thrown. */
  dispatch(payload: Buffer, suffix: string): void {
    for (const [suffixFilter, handlers] of this.handlers) {
      if (!topicMatches(suffixFilter, suffix)) continue;
      for (const handler of handlers) {
        Promise.resolve()
          .then(() => handler(payload, suffix))
          .catch((error: unknown) => this.deps.log.error({ err: error, control: suffix }, 'uplink: control handler failed'));
      }
    }
  }

  private withTopicFilter(suffixFilter: string, act: (session: Session, filter: string) => void): void {
    const filter = this.deps.topicFilter(suffixFilter);
    const session = this.deps.session();
    if (filter !== undefined && session?.open) act(session, filter);
  }
}
