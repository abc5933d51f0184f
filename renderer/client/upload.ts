import { ApiClientError } from '../../main/shared/api-client.js';
import { API_ERROR_STATUS, CSRF_COOKIE, CSRF_HEADER, apiErrorBodySchema, httpRoute, type MethodResult } from '../../main/shared/api.js';
import { gateway } from './index.js';

type Stored = MethodResult<'uploadBundle'>;

function csrfToken(): string | undefined {
  const cookie = document.cookie.split('; ').find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return cookie === undefined ? undefined : decodeURIComponent(cookie.slice(CSRF_COOKIE.length + 1));
}

/**
 * Streams an OTA bundle to staging with the bytes sent so far. In a browser this is the same
 * route as the client's upload, sent with XMLHttpRequest because fetch reports no upload
 * progress; in the Electron window the preload sends 1 MiB chunks and the bar moves when it is done.
 */
export function uploadBundle(file: File, onProgress: (sent: number, total: number) => void): Promise<Stored> {
  if ('fieldgate' in window) {
    onProgress(0, file.size);
    return gateway.uploadBundle(file, { fileName: file.name }).then((stored) => (onProgress(file.size, file.size), stored));
  }
  const { url } = httpRoute('uploadBundle');
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', `${url}?input=${encodeURIComponent(JSON.stringify({ fileName: file.name }))}`);
    request.setRequestHeader('content-type', 'application/octet-stream');
    const token = csrfToken();
    if (token) request.setRequestHeader(CSRF_HEADER, token);
    request.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    request.onerror = () => reject(new ApiClientError({ error: 'unavailable', message: 'the upload was interrupted: check the connection and try again' }, API_ERROR_STATUS.unavailable));
    request.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = undefined;
      }
      if (request.status >= 200 && request.status < 300) return resolve(body as Stored);
      const parsed = apiErrorBodySchema.safeParse(body);
      reject(new ApiClientError(parsed.success ? parsed.data : { error: 'internal', message: `unexpected answer (HTTP ${request.status})` }, request.status));
    };
    request.send(file);
  });
}
