import { readFile, stat } from 'node:fs/promises';
import type { LeasedReading } from '../../buffer/types.js';
import type { CloudConfig } from '../../shared/config/cloud.js';
import { THINGSBOARD, thingsboardDeviceName } from '../../shared/config/cloud-profile-thingsboard.js';
import { UplinkError } from '../errors.js';
import type { CommandRequest, ControlRequest, OutboundMessage, PlatformWire, StatusFacts } from './wire.js';

const { topics } = THINGSBOARD;

/**
 * ThingsBoard's gateway MQTT API: the gateway is a ThingsBoard gateway device, each sensor a
 * device it connects (`v1/gateway/connect`) and sends telemetry for (`v1/gateway/telemetry`). Its
 * own status goes to its client attributes, alerts and control messages to its own telemetry;
 * commands and `cert/issued` come as server-side RPC (to the gateway, or through it to a sensor).
 */
export class ThingsboardWire implements PlatformWire {
  constructor(private readonly deps: { config: Pick<CloudConfig, 'clientId' | 'accessTokenFile'>; gatewayId: string }) {}

  /** With cloud.accessTokenFile the token (read now, so a replaced one is used) is the user name, without a password. */
  async connectOptions(): Promise<{ clientId: string; username?: string }> {
    const clientId = this.deps.config.clientId ?? this.deps.gatewayId;
    const file = this.deps.config.accessTokenFile;
    return file === undefined ? { clientId } : { clientId, username: await readAccessToken(file) };
  }

  readingsTopic(): string {
    return topics.telemetry;
  }

  /** `{"<gateway>/<sensor>":[{"ts":<ms>,"values":{"<quantity>":<value>,…,"_seq":<seq>}},…]}`, one entry per reading. */
  encodeReadings(sensorId: string, readings: readonly LeasedReading[]): Buffer {
    const entries = readings.map((reading) => {
      const values: Record<string, number> = {};
      for (const [quantity, measurement] of Object.entries(reading.values)) values[quantity] = measurement.value;
      values[THINGSBOARD.seqKey] = reading.seq;
      return { ts: reading.ts, values };
    });
    return json({ [this.deviceName(sensorId)]: entries });
  }

  sensorOnline(sensorId: string): OutboundMessage {
    return { topic: topics.connect, payload: json({ device: this.deviceName(sensorId), type: THINGSBOARD.sensorDeviceType }) };
  }

  /** The gateway device's telemetry `{"ts":<event ms>,"values":{"alert":{…}}}`, or `"readingsDropped"` for a drop record. */
  alert(payload: Buffer): OutboundMessage {
    const event = parseOrText(payload);
    const { type, ts: at } = (typeof event === 'object' && event !== null ? event : {}) as { type?: unknown; ts?: unknown };
    const key = type === 'readings-dropped' ? 'readingsDropped' : 'alert';
    const ts = typeof at === 'string' ? Date.parse(at) : Number.NaN;
    return { topic: topics.ownTelemetry, payload: json(Number.isFinite(ts) ? { ts, values: { [key]: event } } : { [key]: event }) };
  }

  status(facts: StatusFacts): OutboundMessage {
    const { version, bufferDepth, alerts, now } = facts;
    return { topic: topics.attributes, payload: json({ online: true, version, bufferDepth, activeAlerts: alerts, statusAt: new Date(now).toISOString() }) };
  }

  offline(version: string): OutboundMessage {
    return { topic: topics.attributes, payload: json({ online: false, version }) };
  }

  /** `v1/gateway/disconnect` for every sensor connected on this connection, so ThingsBoard marks them inactive at once. */
  farewell(_version: string, sensors: readonly string[]): OutboundMessage[] {
    return sensors.map((sensorId) => ({ topic: topics.disconnect, payload: json({ device: this.deviceName(sensorId) }) }));
  }

  subscriptions(): string[] {
    return [topics.rpcRequests, topics.gatewayRpc];
  }

  controlFilter(): undefined {
    return undefined;
  }

  /** A control message as the gateway device's telemetry, keyed by its suffix: `{"cert/csr":{…}}`. */
  control(suffix: string, payload: Buffer): OutboundMessage {
    return { topic: topics.ownTelemetry, payload: json({ [suffix]: parseOrText(payload) }) };
  }

  inbound(topic: string, payload: Buffer): CommandRequest | ControlRequest | undefined {
    if (topic.startsWith(topics.rpcRequestPrefix)) return this.deviceRpc(topic.slice(topics.rpcRequestPrefix.length), payload);
    if (topic === topics.gatewayRpc) return this.sensorRpc(payload);
    return undefined;
  }

  private deviceName(sensorId: string): string {
    return thingsboardDeviceName(this.deps.gatewayId, sensorId);
  }

  /**
   * Server-side RPC to the gateway device, `{"method","params"}`, answered on
   * `v1/devices/me/rpc/response/<id>`. A method with a "/" is a control message (`cert/issued`,
   * its params the message), which gets no answer: send it as one-way RPC.
   */
  private deviceRpc(requestId: string, payload: Buffer): CommandRequest | ControlRequest {
    const reply = (body: object): OutboundMessage => ({ topic: `${topics.rpcResponsePrefix}${requestId}`, payload: json(body) });
    const request = parseRpc(payload);
    if (request.ok && request.method.includes('/')) return { kind: 'control', suffix: request.method, payload: json(request.params) };
    return commandRequest(request, reply);
  }

  /**
   * Gateway RPC to a sensor's device, `{"device","data":{"id","method","params"}}`, answered on
   * `v1/gateway/rpc` with `{"device","id","data":<result>}`; the gateway runs it for its sensor.
   * A message without `data.method` is a reply (or noise), not a request.
   */
  private sensorRpc(payload: Buffer): CommandRequest | undefined {
    let envelope: { device?: unknown; data?: unknown };
    try {
      envelope = JSON.parse(payload.toString('utf8')) as typeof envelope;
    } catch {
      return undefined;
    }
    const data = envelope.data as { id?: unknown; method?: unknown } | undefined;
    if (typeof envelope.device !== 'string' || typeof data?.method !== 'string') return undefined;
    const device = envelope.device;
    const reply = (body: object): OutboundMessage => ({ topic: topics.gatewayRpc, payload: json({ device, id: data.id, data: body }) });
    const request = commandRequest(parseRpc(Buffer.from(JSON.stringify(data))), reply);
    const ownPrefix = thingsboardDeviceName(this.deps.gatewayId, '');
    if (!device.startsWith(ownPrefix)) return { ...request, refused: `RPC for device "${device}" refused: this gateway serves only "${ownPrefix}<sensor>"` };
    return request;
  }
}

type ParsedRpc = { ok: true; method: string; params: Record<string, unknown> } | { ok: false; method: string; error: string };

/** `{"method":"ping","params":{}}`; params may be omitted, null, "" or an object. */
function parseRpc(payload: Buffer): ParsedRpc {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, method: '', error: 'RPC request is not JSON; ThingsBoard sends {"method":"…","params":{…}}' };
  }
  const { method, params } = (value ?? {}) as { method?: unknown; params?: unknown };
  if (typeof method !== 'string' || method.length === 0) return { ok: false, method: '', error: 'RPC request without a "method"' };
  if (params === undefined || params === null || params === '') return { ok: true, method, params: {} };
  if (typeof params !== 'object' || Array.isArray(params)) return { ok: false, method, error: `RPC "${method}": params must be a JSON object, got ${JSON.stringify(params)}` };
  return { ok: true, method, params: params as Record<string, unknown> };
}

/** The command handler validates the params as the command's body (`ping`, `flush`, …); its result is the RPC answer. */
function commandRequest(request: ParsedRpc, reply: (body: object) => OutboundMessage): CommandRequest {
  return {
    kind: 'command',
    name: request.method,
    payload: request.ok ? json(request.params) : Buffer.from('{}'),
    ...(!request.ok && { refused: request.error }),
    reply,
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function parseOrText(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The access token, trimmed. A missing, empty or group/other-readable file is `bad-credentials`
 * naming the key; the token itself is never put in a message.
 */
export async function readAccessToken(file: string): Promise<string> {
  let mode: number;
  let token: string;
  try {
    mode = (await stat(file)).mode & 0o777;
    token = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UplinkError('bad-credentials', `cannot read cloud.accessTokenFile "${file}" (${code}): put the gateway device's access token in it (ThingsBoard: Devices → the gateway → Copy access token), then chmod 600 ${file}`, code);
  }
  if ((mode & 0o077) !== 0) {
    throw new UplinkError('bad-credentials', `cloud.accessTokenFile "${file}" is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); refusing it. Fix: chmod 600 ${file}`);
  }
  if (token.length === 0) {
    throw new UplinkError('bad-credentials', `cloud.accessTokenFile "${file}" is empty: put the gateway device's access token in it (ThingsBoard: Devices → the gateway → Copy access token)`);
  }
  return token;
}
