import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { TlsCredentialProvider } from '../shared/tls.js';
import { OtaError } from './reasons.js';

export interface FetchOptions {
  /** The device's mutual-TLS identity; the update server authenticates the box with it. */
  credentials: TlsCredentialProvider;
  maxBundleBytes: number;
  /** Connect and idle timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Opens a bundle over HTTPS with the device's client certificate. Only the transport is
 * authenticated here: the stream returned goes through the same verification as a USB bundle,
 * and nothing in it is trusted before it is hashed. No redirects (a redirect could leave the
 * mutual-TLS server), no plain HTTP, no proxies.
 */
export async function fetchBundle(url: string, options: FetchOptions): Promise<Readable> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OtaError('fetch-failed', `"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:') throw new OtaError('fetch-failed', `"${url}": only https:// URLs are allowed`);
  const { ca, cert, ...key } = await options.credentials();
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(parsed, { ca, cert, ...key, method: 'GET', timeout: options.timeoutMs ?? 30_000, ...(options.signal ? { signal: options.signal } : {}) });
    req.once('response', resolve);
    req.once('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 30_000} ms`)));
    req.once('error', (error) => reject(new OtaError('fetch-failed', `GET ${parsed.origin}${parsed.pathname}: ${error.message}`)));
    req.end();
  });
  if (response.statusCode !== 200) {
    response.resume();
    const where = response.headers.location ? ` (redirect to ${response.headers.location} not followed)` : '';
    throw new OtaError('fetch-failed', `GET ${parsed.origin}${parsed.pathname}: HTTP ${response.statusCode}${where}`);
  }
  const length = Number(response.headers['content-length']);
  if (Number.isFinite(length) && length > options.maxBundleBytes) {
    response.destroy();
    throw new OtaError('archive-too-large', `the server offers ${length} bytes; at most ${options.maxBundleBytes} are allowed`);
  }
  return response;
}
