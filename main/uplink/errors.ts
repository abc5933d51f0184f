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

/**
 * - `permanent`: about this message's content; sending it again gets the same answer.
 * - `configuration`: about the gateway's setup (ACL, topic); every message would get it.
 * - `transient`: the broker may take it later.
 * Only `permanent` refusals count towards setting a reading aside (refusals.ts); the others keep
 * the readings, end the connection and retry with backoff.
 */
export type RefusalClass = 'permanent' | 'configuration' | 'transient';

type Packet = 'connack' | 'puback' | 'suback' | 'disconnect';

/** The error kind of a refusal in each packet, unless the code's row names another. A SUBACK refusal fails the connect attempt. */
const DEFAULT_KIND: Readonly<Record<Packet, UplinkErrorKind>> = {
  connack: 'protocol',
  puback: 'publish-rejected',
  suback: 'not-authorized',
  disconnect: 'connection-lost',
};

interface ReasonCode {
  meaning: string;
  /** The packets it is explained in (CONNACK and DISCONNECT: the codes an operator can act on). */
  in: readonly Packet[];
  /** The error kind where it differs from DEFAULT_KIND. */
  kind?: Partial<Record<Packet, UplinkErrorKind>>;
  /** What a PUBACK with it means for the readings in the refused message. */
  puback?: RefusalClass;
}

/** Every MQTT 5 reason code >= 0x80 (§2.4) the gateway explains, with its policy. */
const REASON_CODES: Readonly<Record<number, ReasonCode>> = {
  0x80: { meaning: 'unspecified error', in: ['connack', 'puback', 'suback', 'disconnect'], puback: 'transient' },
  0x81: { meaning: 'malformed packet', in: ['connack', 'disconnect'] },
  0x82: { meaning: 'protocol error', in: ['connack', 'disconnect'] },
  0x83: { meaning: 'implementation specific error', in: ['connack', 'puback', 'suback', 'disconnect'], puback: 'transient' },
  0x84: { meaning: 'unsupported protocol version', in: ['connack'] },
  0x85: { meaning: 'client identifier not valid', in: ['connack'] },
  0x86: { meaning: 'bad user name or password', in: ['connack'], kind: { connack: 'not-authorized' } },
  // In a PUBACK usually gateway.id differing from the certificate CN under the broker's ACL.
  0x87: { meaning: 'not authorized', in: ['connack', 'puback', 'suback', 'disconnect'], kind: { connack: 'not-authorized', puback: 'publish-not-authorized' }, puback: 'configuration' },
  0x88: { meaning: 'server unavailable', in: ['connack'] },
  0x89: { meaning: 'server busy', in: ['connack', 'disconnect'] },
  0x8a: { meaning: 'banned', in: ['connack'] },
  0x8b: { meaning: 'server shutting down', in: ['disconnect'] },
  0x8c: { meaning: 'bad authentication method', in: ['connack'] },
  0x8d: { meaning: 'keep alive timeout', in: ['disconnect'] },
  0x8e: { meaning: 'session taken over (another client connected with the same client id)', in: ['disconnect'] },
  0x8f: { meaning: 'topic filter invalid', in: ['suback'] },
  0x90: { meaning: 'topic name invalid', in: ['puback'], puback: 'configuration' },
  0x91: { meaning: 'packet identifier in use', in: ['puback', 'suback'], puback: 'transient' },
  0x93: { meaning: 'receive maximum exceeded', in: ['disconnect'] },
  // A DISCONNECT code, which some brokers also answer a PUBACK with.
  0x95: { meaning: 'packet too large', in: ['connack', 'puback', 'disconnect'], kind: { disconnect: 'packet-too-large' }, puback: 'permanent' },
  0x96: { meaning: 'message rate too high', in: ['disconnect'] },
  0x97: { meaning: 'quota exceeded', in: ['connack', 'puback', 'suback', 'disconnect'], puback: 'transient' },
  0x98: { meaning: 'administrative action', in: ['disconnect'] },
  0x99: { meaning: 'payload format invalid', in: ['connack', 'puback', 'disconnect'], puback: 'permanent' },
  0x9e: { meaning: 'shared subscriptions not supported', in: ['suback'] },
  0x9f: { meaning: 'connection rate exceeded', in: ['connack'] },
  0xa1: { meaning: 'subscription identifiers not supported', in: ['suback'] },
  0xa2: { meaning: 'wildcard subscriptions not supported', in: ['suback'] },
};

function meaning(code: number, packet: Packet): string | undefined {
  const row = REASON_CODES[code];
  return row?.in.includes(packet) ? row.meaning : undefined;
}

function kindOf(code: number, packet: Packet): UplinkErrorKind {
  return REASON_CODES[code]?.kind?.[packet] ?? DEFAULT_KIND[packet];
}

/** What a PUBACK reason code means for the readings in the refused message (unknown codes: transient). */
export function refusalClass(reasonCode: number): RefusalClass {
  return REASON_CODES[reasonCode]?.puback ?? 'transient';
}

function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
const CONNACK_V4: Readonly<Record<number, { meaning: string; kind: UplinkErrorKind }>> = {
  1: { meaning: 'unacceptable protocol version', kind: 'protocol' },
  2: { meaning: 'identifier rejected', kind: 'protocol' },
  3: { meaning: 'server unavailable', kind: 'protocol' },
  4: { meaning: 'bad user name or password', kind: 'not-authorized' },
  5: { meaning: 'not authorized', kind: 'not-authorized' },
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

/** The MQTT reason code an mqtt.js error carries (a refused CONNACK or PUBACK), if any. */
export function reasonCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** A CONNACK refusal, MQTT 5 reason code or MQTT 3.1.1 return code. */
export function classifyConnack(code: number, protocolVersion: 4 | 5, ctx: ClassifyContext): UplinkError {
  const text = (protocolVersion === 5 ? meaning(code, 'connack') : CONNACK_V4[code]?.meaning) ?? `reason code ${code}`;
  const kind = protocolVersion === 5 ? kindOf(code, 'connack') : (CONNACK_V4[code]?.kind ?? 'protocol');
  if (kind === 'not-authorized' && ctx.cert === undefined) {
    return new UplinkError(
      kind,
      `${ctx.url} refused the connection: ${text} (${hex(code)}). No client certificate was presented, so the broker went by the user name: with cloud.accessTokenFile, check that the file holds the gateway device's current access token`,
      code,
    );
  }
  if (kind === 'not-authorized') {
    return new UplinkError(
      kind,
      `${ctx.url} refused the connection: ${text} (${hex(code)}). The broker maps the certificate's CN to the user name; ` +
        `check that the certificate (CN "${ctx.cert?.commonName ?? '?'}") is allowed on this broker and matches gateway.id "${ctx.gatewayId}"`,
      code,
    );
  }
  return new UplinkError(kind, `${ctx.url} refused the connection: ${text} (${hex(code)})`, code);
}

/** A PUBACK with a reason code >= 0x80: the broker received the message but did not take it. */
export function classifyPubackRefusal(code: number, topic: string, ctx: ClassifyContext): UplinkError {
  const kind = kindOf(code, 'puback');
  if (kind === 'publish-not-authorized' && ctx.cert === undefined) {
    return new UplinkError(
      kind,
      `the broker refused to accept a publish to "${topic}": not authorized (${hex(code)}). No client certificate was presented, so it went by the user name: with cloud.accessTokenFile, check that the file holds the gateway device's current access token`,
      code,
    );
  }
  if (kind === 'publish-not-authorized') {
    return new UplinkError(
      kind,
      `the broker refused to accept a publish to "${topic}": not authorized (${hex(code)}). Its ACL confines a gateway to topics ` +
        `under its certificate's CN (here "${ctx.cert?.commonName ?? '?'}"); set gateway.id to that CN ("${ctx.gatewayId}" now) or issue a certificate for it`,
      code,
    );
  }
  const text = meaning(code, 'puback') ?? 'refused';
  const hint = code === 0x95 ? '; lower cloud.batch.maxBytes' : '';
  return new UplinkError(kind, `the broker refused a publish to "${topic}": ${text} (${hex(code)})${hint}`, code);
}

/** A SUBACK that refused some of the gateway's subscriptions (granted QoS >= 0x80). */
export function classifySubackRefusal(refused: readonly { topic: string; qos: number }[], ctx: ClassifyContext): UplinkError {
  return new UplinkError(
    kindOf(refused[0]?.qos ?? 0x80, 'suback'),
    `the broker refused the subscription to ${refused.map((g) => `"${g.topic}" (${meaning(g.qos, 'suback') ?? 'refused'}, ${hex(g.qos)})`).join(', ')}: check that gateway.id "${ctx.gatewayId}" equals the certificate's CN ("${ctx.cert?.commonName ?? '?'}")`,
    refused[0]?.qos,
  );
}

/** A DISCONNECT the broker sent (MQTT 5) before closing the connection. */
export function classifyDisconnect(code: number, ctx: ClassifyContext): UplinkError {
  const kind = kindOf(code, 'disconnect');
  if (kind === 'packet-too-large') {
    return new UplinkError(
      kind,
      `${ctx.url} closed the connection: a packet was larger than it accepts (${hex(code)}). The broker did not announce its limit ` +
        '(MQTT 5 Maximum Packet Size), so lower cloud.batch.maxBytes below its max_packet_size, or raise that limit',
      code,
    );
  }
  return new UplinkError(kind, `${ctx.url} closed the connection: ${meaning(code, 'disconnect') ?? 'reason code'} (${hex(code)})`, code);
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
