import { UPLINK_ERROR_KINDS, type UplinkErrorKind } from '../shared/uplink-error-kinds.js';

export { UPLINK_ERROR_KINDS, type UplinkErrorKind };

export class UplinkError extends Error {
  constructor(
    readonly kind: UplinkErrorKind,
    message: string,
    /** The underlying error code (Node/OpenSSL code or MQTT reason code), for logs. */
    readonly code?: string | number,
  ) {
    super(message);
    this.name = 'UplinkError';
  }
}

/** What the uplink knows about its own certificate, to turn a vague alert into a precise message. */
export interface ClientCertFacts {
  commonName?: string;
  validFrom?: number;
  validTo?: number;
}

export interface ClassifyContext {
  url: string;
  gatewayId: string;
  now: number;
  cert?: ClientCertFacts;
}

const UNKNOWN_CA_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** TLS alerts the broker sends when it does not accept our client certificate. */
const CLIENT_CERT_ALERTS: Record<string, string> = {
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'it does not know the CA that issued it',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'it called the certificate bad',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'it could not verify the certificate',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'the certificate type or key usage is not accepted',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'the certificate is revoked',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'it requires a client certificate',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'it denied access',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'the key does not match the certificate',
};

const CONNACK_V5: Record<number, string> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8c: 'bad authentication method',
  0x95: 'packet too large',
  0x97: 'quota exceeded',
  0x99: 'payload format invalid',
  0x9f: 'connection rate exceeded',
};

const CONNACK_V4: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

function isoDay(ms: number): string {
  return new Date(ms).toISOString();
}

function clockHint(ctx: ClassifyContext): string {
  return `check the system clock (it says ${isoDay(ctx.now)}; is NTP working?)`;
}

/** A local look at our certificate's validity, which explains otherwise generic alerts. */
function clientCertValidity(ctx: ClassifyContext): UplinkError | undefined {
  const { cert } = ctx;
  if (cert?.validTo !== undefined && ctx.now > cert.validTo) {
    return new UplinkError(
      'client-cert-expired',
      `the client certificate expired on ${isoDay(cert.validTo)}: renew the device certificate (fieldgate identity csr), or ${clockHint(ctx)}`,
    );
  }
  if (cert?.validFrom !== undefined && ctx.now < cert.validFrom) {
    return new UplinkError(
      'client-cert-not-yet-valid',
      `the client certificate is not valid before ${isoDay(cert.validFrom)}: ${clockHint(ctx)}`,
    );
  }
  return undefined;
}

function reasonCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** A CONNACK refusal, MQTT 5 reason code or MQTT 3.1.1 return code. */
export function classifyConnack(code: number, protocolVersion: 4 | 5, ctx: ClassifyContext): UplinkError {
  const text = (protocolVersion === 5 ? CONNACK_V5[code] : CONNACK_V4[code]) ?? `reason code ${code}`;
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  const notAuthorized = protocolVersion === 5 ? code === 0x87 || code === 0x86 : code === 5 || code === 4;
  if (notAuthorized) {
    return new UplinkError(
      'not-authorized',
      `${ctx.url} refused the connection: ${text} (${hex}). The broker maps the certificate's CN to the user name; ` +
        `check that the certificate (CN "${ctx.cert?.commonName ?? '?'}") is allowed on this broker and matches gateway.id "${ctx.gatewayId}"`,
      code,
    );
  }
  return new UplinkError('protocol', `${ctx.url} refused the connection: ${text} (${hex})`, code);
}

/** A PUBACK with a reason code >= 0x80: the broker received the message but did not take it. */
export function classifyPubackRefusal(code: number, topic: string, ctx: ClassifyContext): UplinkError {
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  if (code === 0x87) {
    return new UplinkError(
      'publish-not-authorized',
      `the broker refused to accept a publish to "${topic}": not authorized (${hex}). Its ACL confines a gateway to topics ` +
        `under its certificate's CN (here "${ctx.cert?.commonName ?? '?'}"); set gateway.id to that CN ("${ctx.gatewayId}" now) or issue a certificate for it`,
      code,
    );
  }
  const text = CONNACK_V5[code] ?? 'refused';
  const hint = code === 0x95 ? '; lower cloud.batch.maxBytes' : '';
  return new UplinkError('publish-rejected', `the broker refused a publish to "${topic}": ${text} (${hex})${hint}`, code);
}

/** Reason codes of a broker's DISCONNECT (MQTT 5 §3.14.2.1) that the operator can act on. */
const DISCONNECT_V5: Record<number, string> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x87: 'not authorized',
  0x89: 'server busy',
  0x8b: 'server shutting down',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over (another client connected with the same client id)',
  0x93: 'receive maximum exceeded',
  0x95: 'packet too large',
  0x96: 'message rate too high',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x99: 'payload format invalid',
};

/** A DISCONNECT the broker sent (MQTT 5) before closing the connection. */
export function classifyDisconnect(code: number, ctx: ClassifyContext): UplinkError {
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  if (code === 0x95) {
    return new UplinkError(
      'packet-too-large',
      `${ctx.url} closed the connection: a packet was larger than it accepts (${hex}). The broker did not announce its limit ` +
        '(MQTT 5 Maximum Packet Size), so lower cloud.batch.maxBytes below its max_packet_size, or raise that limit',
      code,
    );
  }
  return new UplinkError('connection-lost', `${ctx.url} closed the connection: ${DISCONNECT_V5[code] ?? 'reason code'} (${hex})`, code);
}

/**
 * TLS alert numbers (RFC 8446 §6) to the codes Node 20's OpenSSL gives them. OpenSSL 3.5 (Node 24)
 * renamed "sslv3 alert …" to "ssl/tls alert …", so alerts are recognised by number, not by name.
 */
const ALERT_CODES: Record<number, string> = {
  42: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  43: 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  44: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  45: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  46: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  48: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  49: 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  51: 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
  70: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  116: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
};

function errorCode(err: { code?: unknown; message?: string }): string | undefined {
  const alert = /SSL alert number (\d+)/.exec(err.message ?? '')?.[1];
  const fromAlert = alert === undefined ? undefined : ALERT_CODES[Number(alert)];
  return fromAlert ?? (typeof err.code === 'string' ? err.code : undefined);
}

/** Turns a connect-time failure (socket, TLS or MQTT) into a kind and a message an operator can act on. */
export function classifyConnectError(error: unknown, ctx: ClassifyContext): UplinkError {
  if (error instanceof UplinkError) return error;
  const err = error as { code?: unknown; message?: string };
  const code = errorCode(err);
  const detail = err.message ?? String(error);
  const broker = ctx.url;
  if (code && UNKNOWN_CA_CODES.has(code)) {
    return new UplinkError(
      'unknown-ca',
      `the broker's certificate at ${broker} is not signed by the configured CA (cloud.caFile): ${detail}`,
      code,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new UplinkError(
      'hostname-mismatch',
      `the broker's certificate does not name the host in cloud.url (${broker}): ${detail}. Use the host name the certificate was issued for`,
      code,
    );
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return new UplinkError('server-cert-expired', `the broker's certificate at ${broker} has expired, or ${clockHint(ctx)}`, code);
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return new UplinkError('server-cert-not-yet-valid', `the broker's certificate at ${broker} is not valid yet: ${clockHint(ctx)}`, code);
  }
  if (code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED') {
    return (
      clientCertValidity(ctx) ??
      new UplinkError('client-cert-expired', `the broker says the client certificate has expired: renew it, or ${clockHint(ctx)}`, code)
    );
  }
  if (code && code in CLIENT_CERT_ALERTS) {
    return (
      clientCertValidity(ctx) ??
      new UplinkError(
        'client-cert-rejected',
        `the broker at ${broker} rejected the client certificate: ${CLIENT_CERT_ALERTS[code]}. Check that cloud.certFile was issued by the CA the broker trusts`,
        code,
      )
    );
  }
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || code?.startsWith('ERR_OSSL_PEM') || code === 'ERR_OSSL_UNSUPPORTED') {
    return new UplinkError('bad-credentials', `the client certificate or key cannot be used: ${detail}`, code);
  }
  if (code === 'ECONNREFUSED') {
    return new UplinkError('connection-refused', `nothing accepts connections at ${broker} (connection refused); is the broker running?`, code);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UplinkError('dns', `cannot resolve the broker's host name in ${broker} (${code})`, code);
  }
  if (code === 'ETIMEDOUT' || /connack timeout|keepalive timeout|timed out/i.test(detail)) {
    return new UplinkError('timeout', `no answer from ${broker} in time; check the network and firewall`, code);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up|closed/i.test(detail)) {
    return new UplinkError('connection-lost', `the connection to ${broker} was closed: ${detail}`, code);
  }
  if (code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' || code === 'ERR_SSL_UNSUPPORTED_PROTOCOL') {
    return new UplinkError(
      'tls',
      `the broker at ${broker} and the gateway share no TLS protocol version: the gateway requires TLS 1.2 or newer; upgrade the broker's TLS settings (${detail})`,
      code,
    );
  }
  if (code?.startsWith('ERR_SSL') || code?.startsWith('ERR_TLS')) {
    return new UplinkError('tls', `TLS handshake with ${broker} failed: ${detail}`, code);
  }
  const reason = reasonCodeOf(error);
  if (reason === 0x95) {
    return new UplinkError(
      'packet-too-large',
      `${broker} sent a packet larger than the gateway's Maximum Packet Size; the connection was dropped: ${detail}`,
      reason,
    );
  }
  if (reason !== undefined) return new UplinkError('protocol', `${broker}: ${detail}`, reason);
  return new UplinkError('other', `cannot connect to ${broker}: ${detail}`, code);
}
