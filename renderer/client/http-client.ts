import { CSRF_COOKIE, CSRF_HEADER, EVENTS_PATH, apiEventSchema, apiErrorBodySchema, httpRoute, type ApiEvent, type ApiErrorBody } from '../../main/shared/api.js';
import { GatewayError, type GatewayClient } from './gateway-client.js';

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 10_000;

function csrfToken(): string | undefined {
  const cookie = document.cookie.split('; ').find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return cookie === undefined ? undefined : decodeURIComponent(cookie.slice(CSRF_COOKIE.length + 1));
}

async function errorFrom(response: Response): Promise<GatewayError> {
  const parsed = apiErrorBodySchema.safeParse(await response.json().catch(() => null));
  const fallback: ApiErrorBody = { error: response.status === 401 ? 'unauthorized' : 'internal', message: `HTTP ${response.status}` };
  return new GatewayError(parsed.success ? parsed.data : fallback);
}

function unreachable(error: unknown): GatewayError {
  return new GatewayError({ error: 'unavailable', message: `cannot reach the gateway (${error instanceof Error ? error.message : String(error)})` });
}

function isEmpty(input: unknown): boolean {
  return input === undefined || (typeof input === 'object' && input !== null && Object.keys(input).length === 0);
}

/** The browser transport: the routes and the event socket derived from the contract. */
export function httpClient(): GatewayClient {
  return {
    async call(method, input) {
      const { verb, url } = httpRoute(method);
      const headers: Record<string, string> = { accept: 'application/json' };
      let target = url;
      let body: string | undefined;
      if (verb === 'GET') {
        if (!isEmpty(input)) target += `?input=${encodeURIComponent(JSON.stringify(input))}`;
      } else {
        headers['content-type'] = 'application/json';
        const token = csrfToken();
        if (token) headers[CSRF_HEADER] = token;
        body = JSON.stringify(input ?? {});
      }
      let response: Response;
      try {
        response = await fetch(target, { method: verb, headers, body, credentials: 'same-origin' });
      } catch (error) {
        throw unreachable(error);
      }
      if (!response.ok) throw await errorFrom(response);
      return response.json();
    },

    uploadBundle(file, onProgress) {
      const { url } = httpRoute('uploadBundle');
      return new Promise((resolve, reject) => {
        const request = new XMLHttpRequest();
        request.open('POST', `${url}?input=${encodeURIComponent(JSON.stringify({ fileName: file.name }))}`);
        request.setRequestHeader('content-type', 'application/octet-stream');
        const token = csrfToken();
        if (token) request.setRequestHeader(CSRF_HEADER, token);
        request.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
        request.onerror = () => reject(unreachable(new Error('upload interrupted')));
        request.onload = () => {
          let payload: unknown = null;
          try {
            payload = JSON.parse(request.responseText);
          } catch {
            // an empty or non-JSON body is reported by status below
          }
          if (request.status >= 200 && request.status < 300) return resolve(payload as never);
          const parsed = apiErrorBodySchema.safeParse(payload);
          reject(new GatewayError(parsed.success ? parsed.data : { error: 'internal', message: `HTTP ${request.status}` }));
        };
        request.send(file);
      });
    },

    subscribe(onEvent, onConnection) {
      let socket: WebSocket | undefined;
      let attempt = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let closed = false;
      const connect = () => {
        onConnection(attempt === 0 ? 'connecting' : 'lost');
        const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
        socket = new WebSocket(`${scheme}//${location.host}${EVENTS_PATH}`);
        socket.onopen = () => {
          attempt = 0;
          onConnection('open');
        };
        socket.onmessage = (message) => {
          const parsed = apiEventSchema.safeParse(JSON.parse(String(message.data)));
          if (parsed.success) onEvent(parsed.data as ApiEvent);
        };
        socket.onclose = () => {
          if (closed) return;
          onConnection('lost');
          attempt += 1;
          // Full jitter: boxes that lost the same network do not all come back at once.
          const delay = Math.random() * Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt);
          timer = setTimeout(connect, delay);
        };
      };
      connect();
      return () => {
        closed = true;
        clearTimeout(timer);
        socket?.close();
      };
    },
  };
}
