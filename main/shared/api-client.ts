/**
 * The UI's client for the control API, framework-free and transport-agnostic: over HTTP + the
 * event WebSocket in a browser, over the preload bridge in the Electron window. Both give the
 * same typed methods, the same `ApiClientError`, and one event stream that reconnects with backoff
 * and tells the UI to resync (refetch what it shows) after every reconnect.
 *
 *   const api = createApiClient();              // picks IPC when window.fieldgate exists
 *   const status = await api.call('status', {});
 *   api.events.subscribe((event) => …);
 *   api.events.onConnection((state) => …);      // 'connecting' | 'open' | 'signed-out'
 *   api.events.onResync(() => reload());
 */
import {
  API_ERROR_STATUS,
  apiErrorBodySchema,
  apiEventSchema,
  CSRF_COOKIE,
  CSRF_HEADER,
  EVENTS_PATH,
  httpRoute,
  type ApiErrorBody,
  type ApiEvent,
  type IpcReply,
  type MethodInput,
  type MethodName,
  type MethodResult,
} from './api.js';

export class ApiClientError extends Error {
  constructor(
    readonly body: ApiErrorBody,
    /** HTTP status (IPC: the status the kind has over HTTP). */
    readonly status: number,
  ) {
    super(body.message);
    this.name = 'ApiClientError';
  }

  get kind(): ApiErrorBody['error'] {
    return this.body.error;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'signed-out';

/** The minimal WebSocket surface used (the browser's, or `ws` in Node tests). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(code?: number): void;
}

/** The preload bridge (`window.fieldgate`), as the client uses it. */
export interface PreloadBridge {
  onEvent(listener: (event: unknown) => void): () => void;
  uploadBundle(input: unknown, file: Blob): Promise<unknown>;
  [method: string]: (...args: never[]) => unknown;
}

export interface Transport {
  call(name: MethodName, input: unknown): Promise<unknown>;
  upload(input: MethodInput<'uploadBundle'>, file: Blob): Promise<unknown>;
  /** Opens the event stream; returns a function that closes it for good. */
  connectEvents(handlers: { event(event: ApiEvent): void; state(state: ConnectionState): void }): () => void;
}


function toError(body: unknown, status: number): ApiClientError {
  const parsed = apiErrorBodySchema.safeParse(body);
  return new ApiClientError(parsed.success ? parsed.data : { error: 'internal', message: `unexpected answer (HTTP ${status})` }, status);
}

/** Reconnect delays: exponential with full jitter, capped; reset once a connection opened. */
export function backoffDelay(attempt: number, random: () => number = Math.random, baseMs = 500, maxMs = 30_000): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16)));
}

export interface HttpTransportOptions {
  /** `https://box:8443`; default: the page's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  openWebSocket?: (url: string) => WebSocketLike;
  /** Where the CSRF token comes from; default: the `fieldgate_csrf` cookie of the page. */
  csrfToken?: () => string | undefined;
  random?: () => number;
}

function pageCsrfToken(): string | undefined {
  const cookies = (globalThis as { document?: { cookie?: string } }).document?.cookie ?? '';
  const match = new RegExp(`(?:^|;\\s*)${CSRF_COOKIE}=([^;]+)`).exec(cookies);
  return match?.[1];
}

export function httpTransport(options: HttpTransportOptions = {}): Transport {
  const base = options.baseUrl ?? (globalThis as { location?: { origin: string } }).location?.origin ?? '';
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const csrf = options.csrfToken ?? pageCsrfToken;
  const answer = async (response: Response): Promise<unknown> => {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) throw toError(body, response.status);
    return body;
  };
  const postHeaders = (type: string): Record<string, string> => {
    const token = csrf();
    return { 'content-type': type, accept: 'application/json', ...(token ? { [CSRF_HEADER]: token } : {}) };
  };
  const transport: Transport = {
    async call(name, input) {
      const { verb, url } = httpRoute(name);
      if (verb === 'GET') {
        const empty = input === undefined || (typeof input === 'object' && input !== null && Object.keys(input).length === 0);
        const query = empty ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
        return answer(await doFetch(`${base}${url}${query}`, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
      }
      return answer(await doFetch(`${base}${url}`, { method: 'POST', credentials: 'same-origin', headers: postHeaders('application/json'), body: JSON.stringify(input ?? {}) }));
    },
    async upload(input, file) {
      const { url } = httpRoute('uploadBundle');
      const query = `?input=${encodeURIComponent(JSON.stringify(input))}`;
      return answer(await doFetch(`${base}${url}${query}`, { method: 'POST', credentials: 'same-origin', headers: postHeaders('application/octet-stream'), body: file }));
    },
    connectEvents(handlers) {
      const open = options.openWebSocket ?? ((url: string) => new (globalThis as unknown as { WebSocket: new (url: string) => WebSocketLike }).WebSocket(url));
      const wsUrl = `${base.replace(/^http/, 'ws')}${EVENTS_PATH}`;
      let attempt = 0;
      let closed = false;
      let socket: WebSocketLike | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const connect = () => {
        handlers.state('connecting');
        const current = open(wsUrl);
        socket = current;
        current.onopen = () => {
          attempt = 0;
          handlers.state('open');
        };
        current.onmessage = (message) => {
          const parsed = apiEventSchema.safeParse(JSON.parse(String(message.data)));
          if (parsed.success) handlers.event(parsed.data);
        };
        current.onerror = () => undefined;
        current.onclose = (event) => {
          if (closed) return;
          if (event.code === 4001) {
            handlers.state('signed-out');
            return;
          }
          // A refused upgrade looks like any other drop (1006): ask whether the session still
          // lives before retrying, so a signed-out UI shows its login instead of reconnecting forever.
          handlers.state('connecting');
          const retry = () => {
            timer = setTimeout(connect, backoffDelay(attempt++, options.random));
          };
          transport.call('session', {}).then(retry, (error: unknown) => {
            if (closed) return;
            if (error instanceof ApiClientError && error.kind === 'unauthorized') handlers.state('signed-out');
            else retry();
          });
        };
      };
      connect();
      return () => {
        closed = true;
        clearTimeout(timer);
        socket?.close(1000);
      };
    },
  };
  return transport;
}

function unwrap(reply: unknown): unknown {
  const typed = reply as IpcReply<unknown>;
  if (typed.ok) return typed.result;
  throw new ApiClientError(typed.error, API_ERROR_STATUS[typed.error.error]);
}

/** Over the preload bridge: the same methods; events come straight from the main process. */
export function ipcTransport(bridge: PreloadBridge): Transport {
  return {
    async call(name, input) {
      const method = bridge[name] as unknown as (input: unknown) => Promise<unknown>;
      return unwrap(await method(input));
    },
    async upload(input, file) {
      return unwrap(await bridge.uploadBundle(input, file));
    },
    connectEvents(handlers) {
      handlers.state('open');
      return bridge.onEvent((payload) => {
        const parsed = apiEventSchema.safeParse(payload);
        if (parsed.success) handlers.event(parsed.data);
      });
    },
  };
}

/** The live event stream with resync: listeners survive reconnects. */
export class EventStream {
  private readonly listeners = new Set<(event: ApiEvent) => void>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly resyncListeners = new Set<() => void>();
  private close: (() => void) | undefined;
  private openedBefore = false;
  private current: ConnectionState = 'connecting';

  constructor(private readonly transport: Transport) {}

  get state(): ConnectionState {
    return this.current;
  }

  /** Starts (or, after sign-in, restarts) the stream. */
  connect(): void {
    this.close?.();
    this.close = this.transport.connectEvents({
      event: (event) => {
        for (const listener of this.listeners) listener(event);
      },
      state: (state) => {
        this.current = state;
        for (const listener of this.stateListeners) listener(state);
        if (state !== 'open') return;
        // Events missed while disconnected are gone: the UI refetches what it shows.
        if (this.openedBefore) for (const listener of this.resyncListeners) listener();
        this.openedBefore = true;
      },
    });
  }

  disconnect(): void {
    this.close?.();
    this.close = undefined;
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }
}

export class ApiClient {
  readonly events: EventStream;

  constructor(private readonly transport: Transport) {
    this.events = new EventStream(transport);
  }

  /** Calls one method; rejects with ApiClientError (kind, message, field, hint, retryAfterSeconds…). */
  async call<M extends MethodName>(name: M, input: MethodInput<M>): Promise<MethodResult<M>> {
    return (await this.transport.call(name, input)) as MethodResult<M>;
  }

  /** Streams a bundle file to staging (HTTP: the raw body; IPC: 1 MiB chunks). */
  async uploadBundle(file: Blob, input: MethodInput<'uploadBundle'> = {}): Promise<MethodResult<'uploadBundle'>> {
    return (await this.transport.upload(input, file)) as MethodResult<'uploadBundle'>;
  }
}

/** IPC in the Electron window (the preload exposes `window.fieldgate`), HTTP otherwise. */
export function createApiClient(options: HttpTransportOptions = {}): ApiClient {
  const bridge = (globalThis as { fieldgate?: PreloadBridge }).fieldgate;
  return new ApiClient(bridge ? ipcTransport(bridge) : httpTransport(options));
}
