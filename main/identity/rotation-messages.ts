/** `cert/issued` from the cloud: the certificate (leaf first, intermediates may follow) or a refusal. */
export type IssuedMessage = { requestId: string; cert: string } | { requestId: string; error: string };

/** `cert/status` from the gateway: how a rotation ended. */
export interface RotationStatus {
  requestId: string;
  state: 'installed' | 'rejected' | 'rolled-back' | 'refused' | 'timed-out';
  serial?: string;
  reason?: string;
  /** ISO-8601 UTC, when the gateway decided. */
  ts?: string;
}

const MAX_PAYLOAD = 64 * 1024;

export function parseIssuedMessage(payload: Buffer | string): IssuedMessage | { invalid: string } {
  if (payload.length > MAX_PAYLOAD) return { invalid: `payload larger than ${MAX_PAYLOAD} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch {
    return { invalid: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { invalid: 'expected a JSON object' };
  const record = value as Record<string, unknown>;
  if (typeof record.requestId !== 'string' || record.requestId.length === 0) return { invalid: '"requestId": expected a non-empty string' };
  if (typeof record.cert === 'string') return { requestId: record.requestId, cert: record.cert };
  if (typeof record.error === 'string') return { requestId: record.requestId, error: record.error };
  return { invalid: 'expected "cert" (PEM) or "error" (reason)' };
}
