import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { AlertCenter } from '../../../main/alerts/alert-center.js';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry, type Registry } from '../../../main/metrics/registry.js';
import { systemClock } from '../../../main/shared/clock.js';
import { bufferSchema, type BufferConfig } from '../../../main/shared/config/buffer.js';
import { cloudSchema, type CloudConfig } from '../../../main/shared/config/cloud.js';
import type { TlsCredentials } from '../../../main/shared/tls.js';
import { Uplink } from '../../../main/uplink/uplink.js';
import type { Mosquitto } from '../../helpers/mosquitto.js';
import type { IssuedCert, Pki } from '../../helpers/pki.js';

export interface Received {
  topic: string;
  text: string;
  retain: boolean;
}

/** The cloud side: a client with the reader certificate, recording everything under the prefix. */
export async function cloudSubscriber(
  broker: Mosquitto,
  pki: Pki,
  options: { persistentSession?: boolean } = {},
): Promise<{ client: MqttClient; messages: Received[]; close(): Promise<void> }> {
  const cert = await pki.issueClientCert({ cn: broker.readerCn });
  // A persistent session (with a persistent broker) gets what was queued for it across a broker restart.
  const session = options.persistentSession ? { clean: false, properties: { sessionExpiryInterval: 3_600 } } : {};
  const client = connect(broker.url, {
    ca: pki.ca.certPem,
    cert: cert.certPem,
    key: cert.keyPem,
    protocolVersion: 5,
    reconnectPeriod: 500,
    clientId: `reader-${process.pid}-${Math.random().toString(16).slice(2)}`,
    ...session,
  });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, text: payload.toString(), retain: packet.retain }));
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(`${broker.prefix}/#`, { qos: 1 });
  return { client, messages, close: () => client.endAsync(true) };
}

export async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function cloudConfig(url: string, overrides: Record<string, unknown> = {}): CloudConfig {
  return cloudSchema.parse({
    url,
    caFile: '/unused/ca.pem',
    certFile: '/unused/cert.pem',
    keyFile: '/unused/key.pem',
    backoff: { initialMs: 100, maxMs: 400, stableMs: 5_000 },
    ...overrides,
  });
}

export function bufferConfig(overrides: Record<string, unknown> = {}): BufferConfig {
  return bufferSchema.parse({ commitWindowMs: 2, ...overrides });
}

export interface Rig {
  dir: string;
  buffer: SqliteBuffer;
  uplink: Uplink;
  metrics: Registry;
  credentials: { current: TlsCredentials };
  stop(): Promise<void>;
}

/**
 * A real SqliteBuffer in a temp dir and an Uplink with credentials the test can swap. Without
 * `broker`, give `url` (a plaintext one needs `cloud: { allowInsecure: true }`, and no pki).
 */
export async function startRig(options: {
  broker?: Mosquitto;
  pki?: Pki;
  client?: IssuedCert;
  gatewayId: string;
  ca?: string;
  cloud?: Record<string, unknown>;
  buffer?: Record<string, unknown>;
  url?: string;
  start?: boolean;
}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-uplink-'));
  const metrics = createMetricsRegistry({ processMetrics: false });
  // The gateway's alerts component: the buffer's and uplink's alerts reach the broker through its outbox.
  const alerts = new AlertCenter({ file: join(dir, 'alerts.db'), gatewayId: options.gatewayId, keepRecent: () => 100, log: silentLogger, clock: systemClock, metrics });
  await alerts.start();
  const wired: { uplink?: Uplink } = {};
  alerts.onChange(() => wired.uplink?.wake());
  const buffer = new SqliteBuffer({
    file: join(dir, 'buffer.db'),
    options: bufferConfig(options.buffer),
    log: silentLogger,
    clock: systemClock,
    metrics,
    onAlert: (alert) => alerts.report({ type: 'buffer-alert', ...alert }),
  });
  await buffer.start(new AbortController().signal);
  const noTls = { ca: '', cert: '', key: '' };
  const credentials = { current: options.pki && options.client ? { ca: options.ca ?? options.pki.ca.certPem, cert: options.client.certPem, key: options.client.keyPem } : noTls };
  const url = options.url ?? options.broker?.url;
  if (!url) throw new Error('startRig needs a broker or a url');
  const uplink = new Uplink({
    buffer,
    config: cloudConfig(url, options.cloud),
    gatewayId: options.gatewayId,
    credentials: async () => credentials.current,
    log: silentLogger,
    clock: systemClock,
    metrics,
    version: '9.9.9-test',
    onAlert: (alert) => alerts.report(alert),
    alerts,
  });
  wired.uplink = uplink;
  if (options.start !== false) await uplink.start();
  return {
    dir,
    buffer,
    uplink,
    metrics,
    credentials,
    stop: async () => {
      await uplink.stop();
      await buffer.stop();
      await alerts.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function readingsOf(messages: readonly Received[], prefix: string, gatewayId: string): Array<{ topic: string; sensor: string; seq: number; ts: string; values: unknown }> {
  return messages
    .filter((m) => m.topic.startsWith(`${prefix}/${gatewayId}/readings/`))
    .flatMap((m) => (JSON.parse(m.text) as { readings: Array<{ sensor: string; seq: number; ts: string; values: unknown }> }).readings.map((r) => ({ topic: m.topic, ...r })));
}
