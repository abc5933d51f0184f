import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { MemoryBuffer } from '../../../main/buffer/memory-buffer.js';
import type { IdentityAlert } from '../../../main/identity/alerts.js';
import { createDeviceIdentity, usesOnBoxIdentity, type DeviceIdentity } from '../../../main/identity/device-identity.js';
import type { CertificateRotation } from '../../../main/identity/rotation.js';
import { pino } from 'pino';
import { createLogger, silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry, type Registry } from '../../../main/metrics/registry.js';
import { systemClock } from '../../../main/shared/clock.js';
import type { Config } from '../../../main/shared/config/schema.js';
import { Uplink } from '../../../main/uplink/uplink.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, daysFromNow, type Pki } from '../../helpers/pki.js';
import { GATEWAY_ID, installIdentity, opensslText, publicKeyOf, waitFor, workspace, type Workspace } from './fixture.js';

const PREFIX = 'fieldgate';

let pki: Pki;
let otherPki: Pki;
let broker: Mosquitto;
let cloud: MqttClient;
/** How the test CA answers the next CSR: sign it (with which CA and validity), or send something else. */
let answer: (request: { requestId: string; csr: string }) => Promise<object>;
const csrRequests: { requestId: string; csr: string; gatewayId: string }[] = [];
const statuses: { requestId: string; state: string; serial?: string; reason?: string }[] = [];
const online: string[] = [];

interface Running {
  ws: Workspace;
  identity: DeviceIdentity;
  uplink: Uplink;
  rotation: CertificateRotation | undefined;
  buffer: MemoryBuffer;
  metrics: Registry;
  alerts: IdentityAlert[];
  stop(): Promise<void>;
}

let running: Running | undefined;

before(async () => {
  pki = await createPki();
  otherPki = await createPki();
  broker = await startMosquitto({ pki, prefix: PREFIX });
  const reader = await pki.issueClientCert({ cn: broker.readerCn });
  cloud = await connectAsync(broker.url, { ca: pki.ca.certPem, cert: reader.certPem, key: reader.keyPem, protocolVersion: 5, reconnectPeriod: 0 });
  await cloud.subscribeAsync([`${PREFIX}/+/cert/csr`, `${PREFIX}/+/cert/status`, `${PREFIX}/+/status`], { qos: 1 });
  cloud.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    if (topic.endsWith('/cert/csr')) {
      const request = body as { requestId: string; csr: string; gatewayId: string };
      csrRequests.push(request);
      void answer(request).then((reply) => cloud.publishAsync(`${PREFIX}/${request.gatewayId}/cert/issued`, JSON.stringify(reply), { qos: 1 }));
    } else if (topic.endsWith('/cert/status')) {
      statuses.push(body as (typeof statuses)[number]);
    } else if (body.online === true) {
      online.push(topic);
    }
  });
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  csrRequests.length = 0;
  statuses.length = 0;
  online.length = 0;
});

after(async () => {
  await cloud?.endAsync();
  await broker?.cleanup();
  await pki?.cleanup();
  await otherPki?.cleanup();
});

/** A workspace whose cloud section points at the broker and names the identity folder's own files. */
function gatewayWorkspace(options: { caFile?: string; atLifetimeShare?: number; responseTimeoutMs?: number } = {}): Workspace {
  return workspace(({ identityDir }) => ({
    caFile: options.caFile ?? pki.ca.certPath,
    cloud: {
      url: broker.url,
      caFile: pki.ca.certPath,
      certFile: join(identityDir, 'cert.pem'),
      keyFile: join(identityDir, 'key.pem'),
      topicPrefix: PREFIX,
      connectTimeoutMs: 5_000,
      backoff: { initialMs: 50, maxMs: 500, stableMs: 1_000 },
    },
    identity: { rotation: { atLifetimeShare: options.atLifetimeShare ?? 0.67, responseTimeoutMs: options.responseTimeoutMs ?? 60_000 }, checkIntervalMs: 60_000 },
  }));
}

/** Builds identity, buffer, uplink and rotation the way the composition root does, and starts them in order. */
async function startGateway(ws: Workspace, options: { rotation?: boolean } = {}): Promise<Running> {
  const config: Config = ws.config;
  const metrics = createMetricsRegistry({ processMetrics: false });
  const alerts: IdentityAlert[] = [];
  const log = process.env.IDENTITY_TEST_LOG ? createLogger({ level: 'debug', destination: pino.destination(2) }) : silentLogger;
  const identity = createDeviceIdentity({ config, log, clock: systemClock, metrics, onAlert: (alert) => alerts.push(alert) });
  assert.ok(usesOnBoxIdentity(config, identity.store), 'the cloud section names the identity folder files');
  const buffer = new MemoryBuffer({ options: config.buffer, log: silentLogger, clock: systemClock });
  const uplink = new Uplink({
    buffer,
    config: config.cloud as NonNullable<Config['cloud']>,
    gatewayId: config.gateway.id,
    credentials: identity.credentials.provide,
    log,
    clock: systemClock,
    metrics,
    version: 'test',
  });
  const rotation = options.rotation === false ? undefined : identity.rotation(uplink);
  const controller = new AbortController();
  const started: { stop(): Promise<void> }[] = [];
  const result: Running = {
    ws,
    identity,
    uplink,
    rotation,
    buffer,
    metrics,
    alerts,
    stop: async () => {
      controller.abort();
      for (const component of started.reverse()) await component.stop();
      ws.cleanup();
    },
  };
  running = result;
  await buffer.start(controller.signal);
  started.push(buffer);
  try {
    await identity.monitor.start(controller.signal);
  } finally {
    started.push(identity.monitor);
  }
  await uplink.start();
  started.push(uplink);
  if (rotation) {
    await rotation.start(controller.signal);
    started.push(rotation);
  }
  return result;
}

async function metricValue(metrics: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l));
  return value?.value;
}

async function provision(ws: Workspace, validity: { notBefore?: Date; notAfter?: Date; days?: number }): Promise<string> {
  const store = createDeviceIdentity({ config: ws.config, log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) }).store;
  const { csrPem } = await store.writeProvisioningCsr();
  const certPem = await pki.signCsr(csrPem, validity);
  store.importCertificate(certPem, 'provisioned', Date.now());
  return certPem;
}

test('CSR → signed by the CA → connect to Mosquitto with require_certificate', async () => {
  const ws = gatewayWorkspace();
  await provision(ws, { days: 365 });
  const gw = await startGateway(ws, { rotation: false });
  await waitFor(() => gw.uplink.status().state === 'connected', 'the uplink to connect with the on-box identity');
  await waitFor(() => online.includes(`${PREFIX}/${GATEWAY_ID}/status`), 'the broker to relay the gateway online status');
  assert.equal(gw.uplink.status().certificate?.commonName, GATEWAY_ID);
  const days = await metricValue(gw.metrics, 'fieldgate_identity_cert_days_left');
  assert.ok(days === 364 || days === 365, `days left ${String(days)}`);
  assert.deepEqual(gw.alerts, []);
});

test('rotation end to end: new key and CSR on cert/csr, certificate on cert/issued, reconnect, old key gone', async () => {
  const ws = gatewayWorkspace({ atLifetimeShare: 0.5 });
  // 20 of 30 days are gone: past the configured half of the lifetime, so rotation is due at start.
  await provision(ws, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  const oldKey = readFileSync(join(ws.identityDir, 'key.pem'), 'utf8');
  const oldCert = readFileSync(join(ws.identityDir, 'cert.pem'), 'utf8');
  answer = async ({ requestId, csr }) => ({ requestId, cert: await pki.signCsr(csr, { days: 90 }) });
  const gw = await startGateway(ws);

  await waitFor(() => statuses.some((s) => s.state === 'installed'), 'cert/status "installed"');
  assert.equal(csrRequests.length, 1);
  const [request] = csrRequests;
  assert.equal(request?.gatewayId, GATEWAY_ID);
  const newKey = readFileSync(join(ws.identityDir, 'key.pem'), 'utf8');
  const newCert = readFileSync(join(ws.identityDir, 'cert.pem'), 'utf8');
  assert.notEqual(newKey, oldKey);
  assert.notEqual(newCert, oldCert);
  assert.equal(publicKeyOf(newKey), opensslText(['req', '-noout', '-pubkey'], request?.csr ?? ''), 'the CSR carried the new key');
  assert.equal(statuses[0]?.requestId, request?.requestId);
  assert.equal(statuses[0]?.serial, gw.identity.store.describe().serial);
  assert.equal(existsSync(join(ws.identityDir, 'next')), false);
  assert.equal(existsSync(join(ws.identityDir, 'retired-key.pem')), false);
  await waitFor(() => gw.uplink.status().state === 'connected', 'the uplink to be connected with the new identity');
  assert.equal(await metricValue(gw.metrics, 'fieldgate_identity_rotations_total', { result: 'installed' }), 1);
  const days = await metricValue(gw.metrics, 'fieldgate_identity_cert_days_left');
  assert.ok(days === 89 || days === 90, `days left after rotation ${String(days)}`);
  assert.ok(gw.alerts.some((a) => a.kind === 'rotated'));
});

test('a certificate the broker does not accept is rolled back: old identity kept, reconnected, alert raised', async () => {
  // The gateway trusts both CAs, the broker only the first: the new certificate passes local checks but not the broker.
  const bundle = join(otherPki.dir, 'both-cas.pem');
  writeFileSync(bundle, pki.ca.certPem + otherPki.ca.certPem);
  const ws = gatewayWorkspace({ caFile: bundle, atLifetimeShare: 0.5 });
  await provision(ws, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  const oldKey = readFileSync(join(ws.identityDir, 'key.pem'), 'utf8');
  const oldSerial = createDeviceIdentity({ config: ws.config, log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) }).store.describe().serial;
  answer = async ({ requestId, csr }) => ({ requestId, cert: await otherPki.signCsr(csr, { days: 90 }) });
  const gw = await startGateway(ws);

  await waitFor(() => statuses.some((s) => s.state === 'rolled-back'), 'cert/status "rolled-back"');
  assert.match(statuses[0]?.reason ?? '', /the broker did not accept the new certificate .*rolled back to the previous identity/);
  assert.equal(readFileSync(join(ws.identityDir, 'key.pem'), 'utf8'), oldKey);
  assert.equal(gw.identity.store.describe().serial, oldSerial);
  assert.equal(existsSync(join(ws.identityDir, 'next')), false);
  await waitFor(() => gw.uplink.status().state === 'connected', 'the uplink to reconnect with the old identity');
  assert.equal(gw.uplink.status().certificate?.commonName, GATEWAY_ID);
  const alert = gw.alerts.find((a) => a.kind === 'rotation-failed');
  assert.match(alert?.message ?? '', /certificate rotation failed: the broker did not accept/);
  assert.equal(await metricValue(gw.metrics, 'fieldgate_identity_rotations_total', { result: 'rolled-back' }), 1);
});

test('an issued certificate for another key is rejected before it is tried; the old identity stays connected', async () => {
  const ws = gatewayWorkspace({ atLifetimeShare: 0.5 });
  await provision(ws, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  const oldCert = readFileSync(join(ws.identityDir, 'cert.pem'), 'utf8');
  const stranger = await pki.issueClientCert({ cn: GATEWAY_ID });
  answer = async ({ requestId }) => ({ requestId, cert: stranger.certPem });
  const gw = await startGateway(ws);

  await waitFor(() => statuses.some((s) => s.state === 'rejected'), 'cert/status "rejected"');
  assert.match(statuses[0]?.reason ?? '', /does not match the device key/);
  assert.equal(readFileSync(join(ws.identityDir, 'cert.pem'), 'utf8'), oldCert);
  await waitFor(() => gw.uplink.status().state === 'connected', 'the uplink to stay connected with the old identity');
  assert.ok(gw.alerts.some((a) => a.kind === 'rotation-failed'));
});

test('a CSR the cloud refuses, or never answers, ends the attempt with an alert and keeps the old identity', async () => {
  const ws = gatewayWorkspace({ atLifetimeShare: 0.5, responseTimeoutMs: 1_000 });
  await provision(ws, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  const oldCert = readFileSync(join(ws.identityDir, 'cert.pem'), 'utf8');
  answer = async ({ requestId }) => ({ requestId, error: 'gw-1 is not on the allowlist' });
  const gw = await startGateway(ws);
  await waitFor(() => statuses.some((s) => s.state === 'refused'), 'cert/status "refused"');
  assert.match(statuses[0]?.reason ?? '', /the cloud refused the CSR: gw-1 is not on the allowlist/);
  assert.equal(existsSync(join(ws.identityDir, 'next')), false);

  answer = () => new Promise(() => undefined);
  await gw.rotation?.rotateNow();
  await waitFor(() => statuses.some((s) => s.state === 'timed-out'), 'cert/status "timed-out"');
  assert.match(statuses.at(-1)?.reason ?? '', /no certificate arrived on cert\/issued within 1 s/);
  assert.equal(readFileSync(join(ws.identityDir, 'cert.pem'), 'utf8'), oldCert);
  assert.equal(existsSync(join(ws.identityDir, 'next')), false);
  assert.equal(gw.alerts.filter((a) => a.kind === 'rotation-failed').length, 2);
  assert.equal(gw.uplink.status().state, 'connected');
});

test('a rotation interrupted by a restart resends the same request and completes', async () => {
  const ws = gatewayWorkspace({ atLifetimeShare: 0.5 });
  await provision(ws, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  answer = () => new Promise(() => undefined);
  const gw = await startGateway(ws);
  await waitFor(() => csrRequests.length === 1, 'the first CSR');
  await gw.rotation?.stop();

  answer = async ({ requestId, csr }) => ({ requestId, cert: await pki.signCsr(csr, { days: 90 }) });
  const restarted = gw.identity.rotation(gw.uplink);
  await restarted.start(new AbortController().signal);
  try {
    await waitFor(() => statuses.some((s) => s.state === 'installed'), 'cert/status "installed" after the restart');
    assert.equal(csrRequests.length, 2);
    assert.equal(csrRequests[1]?.requestId, csrRequests[0]?.requestId, 'the persisted request is resent, not a new key');
    assert.equal(csrRequests[1]?.csr, csrRequests[0]?.csr);
    assert.equal(statuses[0]?.requestId, csrRequests[0]?.requestId);
  } finally {
    await restarted.stop();
  }
});

test('an expired certificate is refused at start with the date, and the uplink reports the same', async () => {
  const ws = gatewayWorkspace();
  const client = await pki.issueClientCert({ cn: GATEWAY_ID, notBefore: daysFromNow(-60), notAfter: daysFromNow(-2) });
  installIdentity(ws.identityDir, client.keyPem, client.certPem);
  await assert.rejects(startGateway(ws, { rotation: false }), /device certificate expired on \d{4}-.*Z \(2 days ago/);
  const gw = running as Running;
  assert.ok(gw.alerts.some((a) => a.kind === 'cert-expired'));
  assert.equal(await metricValue(gw.metrics, 'fieldgate_identity_cert_days_left'), -3);
  await gw.uplink.start();
  await waitFor(() => gw.uplink.status().lastError !== null, 'the uplink to report its failure');
  assert.match(gw.uplink.status().lastError?.message ?? '', /device certificate expired on/);
  assert.notEqual(gw.uplink.status().state, 'connected');
  await gw.uplink.stop();
});

test('a not-yet-valid certificate is diagnosed as a wrong system clock with now and notBefore; the identity monitor keeps running', async () => {
  const ws = gatewayWorkspace();
  const client = await pki.issueClientCert({ cn: GATEWAY_ID, notBefore: daysFromNow(30), notAfter: daysFromNow(400) });
  installIdentity(ws.identityDir, client.keyPem, client.certPem);
  const gw = await startGateway(ws, { rotation: false });
  const clockWrong = gw.alerts.find((a) => a.kind === 'clock-wrong');
  assert.match(clockWrong?.message ?? '', /system clock looks wrong \(now=\d{4}-\d\d-\d\dT[\d:.]+Z, notBefore=\d{4}-\d\d-\d\dT[\d:.]+Z\)/);
  await waitFor(() => gw.uplink.status().lastError !== null, 'the uplink to report its failure');
  assert.match(gw.uplink.status().lastError?.message ?? '', /system clock looks wrong/);
  await gw.uplink.stop();
});

test('a key readable by others is refused at start and at every connect, naming chmod 600', async () => {
  const ws = gatewayWorkspace();
  await provision(ws, { days: 30 });
  chmodSync(join(ws.identityDir, 'key.pem'), 0o640);
  await assert.rejects(startGateway(ws, { rotation: false }), /private key .*key\.pem is accessible to group or others \(mode 0640\).*Fix: chmod 600 /);
  const gw = running as Running;
  await assert.rejects(gw.identity.credentials.provide(), /chmod 600/);
  await gw.uplink.start();
  await waitFor(() => gw.uplink.status().lastError !== null, 'the uplink to report its failure');
  assert.match(gw.uplink.status().lastError?.message ?? '', /chmod 600/);
  assert.notEqual(gw.uplink.status().state, 'connected');
  await gw.uplink.stop();
});
