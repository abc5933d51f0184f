import type { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import type { ApiEvent, Role } from '../shared/api.js';
import type { ControlApi } from './control-api.js';
import { eventVisibleTo } from './handlers.js';
import type { Session } from './sessions.js';

/** A client that cannot keep up is closed (it reconnects and resyncs) rather than buffered without end. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Also the ping period: a client that missed a whole period's pong is gone (its socket is dropped). */
const SESSION_CHECK_MS = 15_000;
/** Close codes the client library knows: reconnect after 1013, sign in again after 4001. */
export const CLOSE_TRY_AGAIN = 1013;
export const CLOSE_SESSION_ENDED = 4001;

/** Streams the event union to one WebSocket until it closes or its session ends. */
export function attachEventSocket(options: { socket: WebSocket; session: Session | undefined; role: Role | undefined; control: ControlApi; log: Logger }): void {
  const { socket, session, role, control } = options;
  const send = (event: ApiEvent) => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      options.log.warn({ username: session?.username }, 'event client too slow: closing its socket');
      socket.close(CLOSE_TRY_AGAIN, 'too slow');
      return;
    }
    socket.send(JSON.stringify(event));
  };
  const endWith = (state: 'expired' | 'ended') => {
    send({ type: 'session', state });
    socket.close(CLOSE_SESSION_ENDED, `session ${state}`);
  };
  const unsubscribe = control.events.subscribe((event) => {
    if (eventVisibleTo(event, role)) send(event);
  });
  const stopEndWatch = control.auth.sessions.onEnd((ended, reason) => {
    if (ended.id === session?.id) endWith(reason);
  });
  let alive = true;
  socket.on('pong', () => (alive = true));
  // Expiry is noticed on use; a socket alone does not count as use, so look now and then.
  const check = setInterval(() => {
    if (session) control.auth.sessions.peek(session.id);
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, SESSION_CHECK_MS);
  check.unref();
  socket.on('close', () => {
    unsubscribe();
    stopEndWatch();
    clearInterval(check);
  });
  // The client only listens; anything it sends is ignored.
  socket.on('message', () => undefined);
  send({ type: 'session', state: 'open' });
}
