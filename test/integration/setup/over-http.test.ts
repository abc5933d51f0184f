// The setup services behind the real API server, over HTTP and the event WebSocket as the setup
// UI uses them: serial preview on a pty, testCloud against Mosquitto, CSR download then import,
// and OTA bundles streamed up (a tampered one refused with its reason, a valid one installed with
// its progress seen on the socket).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SerialPort } from 'serialport';
import { WebSocket } from 'ws';
import { ControlApi } from '../../../main/api/control-api.js';
import { apiDataDir } from '../../../main/config/location.js';
import { ApiServer } from '../../../main/api/http-server.js';
import { readSetupCode } from '../../../main/api/setup-code.js';
import { IdentityService } from '../../../main/identity/identity-service.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { EntrypointLauncher } from '../../../main/ota/launcher.js';
import { OtaService } from '../../../main/ota/ota-service.js';
import { SystemPortDiscovery } from '../../../main/sensors/serial/discovery.js';
import { SerialSetup } from '../../../main/sensors/serial/preview.js';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { BleSource } from '../../../main/sensors/ble/ble-source.js';
import { BTHOME_UUID } from '../../../main/sensors/ble/decoders/index.js';
import { BlePairingService } from '../../../main/sensors/ble/pairing-service.js';
import { bleSchema } from '../../../main/shared/config/ble.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';
import { BluezMock, PrivateBus } from '../../helpers/dbus.js';
import { VECTORS } from '../../fixtures/ble/bthome-seal.js';
import { apiEventSchema, EVENTS_PATH, type ApiEvent } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import { uiSchema } from '../../../main/shared/config/gateway.js';
import { otaSchema } from '../../../main/shared/config/ota.js';
import { CloudTester } from '../../../main/uplink/test-connection.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { SocatPair } from '../../helpers/socat.js';
import { fakeBackends } from '../../unit/api/fake-backends.js';
import { ARCH, bundleBytes, MODEL, offsetOf } from '../../unit/ota/bundle-factory.js';
import { ADMIN_PASSWORD, BrowserClient, type Answer } from '../api/fixture.js';
import { GATEWAY_ID, workspace, type Workspace } from '../identity/fixture.js';
import { CLI, OtaBox, SCRIPTS } from '../ota/fixture.js';
import { closePort, openDeviceEnd, send, waitFor } from '../serial/fixture.js';

const RENDERER = fileURLToPath(new URL('../../../renderer/', import.meta.url));

describe('setup flows over HTTP and the event WebSocket', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-setup-http-'));
  const pair = new SocatPair();
  const events: ApiEvent[] = [];
  let device: SerialPort;
  let pki: Pki;
  let otherCa: Pki;
  let broker: Mosquitto;
  let ws: Workspace;
  let box: OtaBox;
  let control: ControlApi;
  let server: ApiServer;
  let admin: BrowserClient;
  let socket: WebSocket;
  let bus: PrivateBus;
  let mock: BluezMock;
  let buffer: SqliteBuffer;
  let ble: BleSource;

  before(async () => {
    await pair.start();
    device = await openDeviceEnd(pair.b);
    pki = await createPki();
    otherCa = await createPki();
    broker = await startMosquitto({ pki });
    ws = workspace({ caFile: pki.ca.certPath });
    box = await OtaBox.create();
    bus = await PrivateBus.start(dataDir);
    process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
    mock = new BluezMock(bus);
    await mock.start();
    buffer = new SqliteBuffer({ file: join(dataDir, 'buffer.db'), options: bufferSchema.parse({}), log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) });
    await buffer.start(new AbortController().signal);
    ble = new BleSource({ config: bleSchema.parse({}), stateDir: join(dataDir, 'ble'), sink: buffer, log: silentLogger, clock: systemClock });
    await ble.start();
    const adapter = await mock.addAdapter('hci0');
    await waitFor('BLE discovery', async () => ble.scanStatus().adapters[0]?.discovering === true && (await mock.discovering(adapter)));

    const ui = uiSchema.parse({ port: 0 });
    const metrics = createMetricsRegistry({ processMetrics: false });
    const holder: { control?: ControlApi } = {};
    const publisher = { publish: (event: ApiEvent) => holder.control?.events.publish(event) };
    const log = silentLogger;
    const clock = systemClock;
    const backends = {
      ...fakeBackends(() => (holder.control as ControlApi).events).backends,
      serial: new SerialSetup({ ports: { configured: () => [], pause: async () => {}, resume: async () => {} }, discovery: new SystemPortDiscovery({ log }), events: publisher, log, clock }),
      ble: new BlePairingService({ pairing: () => ble.pairing, events: publisher, configVersion: () => 'unchanged', log, clock }),
      cloud: new CloudTester({ gatewayId: GATEWAY_ID, onBoxIdentity: undefined, caDir: join(dataDir, 'cloud-ca'), log, clock }),
      identity: new IdentityService({ config: () => ws.config, rotation: () => undefined, log, clock }),
      ota: new OtaService({
        config: otaSchema.parse({ model: MODEL, arch: ARCH, markGoodTimeoutMs: 60_000, reserveBytes: 0 }),
        root: box.root,
        events: publisher,
        log,
        clock,
        runningVersion: '0.1.0',
        shippedKeyset: box.publisher.keyset,
        launcher: new EntrypointLauncher({ env: { ...process.env, FG_CLI: CLI } }),
      }),
    };
    control = new ControlApi({ backends, ui, dataDir, metrics, log, now: () => Date.now() });
    holder.control = control;
    await control.start();
    server = new ApiServer({ control, metrics, ui, gatewayId: GATEWAY_ID, maxUploadBytes: 8 * 1024 * 1024, staticDir: RENDERER, log, now: () => Date.now() });
    await server.start();

    admin = new BrowserClient(server.url);
    await admin.open();
    const code = readSetupCode(apiDataDir(dataDir), Date.now())?.code ?? '';
    const setUp = await admin.call('completeSetup', { code, password: ADMIN_PASSWORD });
    assert.equal(setUp.status, 200, JSON.stringify(setUp.body));
    socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}${EVENTS_PATH}`, {
      headers: { origin: server.url, cookie: [...admin.cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    socket.on('message', (data) => events.push(apiEventSchema.parse(JSON.parse(String(data)))));
    await waitFor('the socket to open', () => events.some((e) => e.type === 'session'));
  });

  after(async () => {
    socket?.close();
    await server?.stop();
    await control?.stop();
    await ble?.stop();
    await buffer?.stop();
    await mock?.stop();
    await bus?.stop();
    await closePort(device);
    await pair.dispose();
    await broker?.cleanup();
    await pki?.cleanup();
    await otherCa?.cleanup();
    ws?.cleanup();
    await box?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function ok(answer: Answer): Record<string, unknown> {
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as Record<string, unknown>;
  }

  it('serial preview on a pty shows parsed lines and rejects on the socket', async () => {
    const started = ok(await admin.call('startSerialPreview', { entry: { path: pair.a, format: 'kv', sensorId: 'shed', fields: { t: { quantity: 'temperature', unit: '°C' } } } }));
    await send(device, 't=4.5\nt=warm\n');
    const lines = await waitFor('two preview lines', () => {
      const seen = events.filter((e) => e.type === 'serial-preview' && e.previewId === started.previewId);
      return seen.length >= 2 && seen;
    });
    assert.deepEqual(
      lines.map((e) => e.type === 'serial-preview' && [e.raw, e.result.ok ? e.result.readings[0]?.values : e.result.reason]),
      [
        ['t=4.5', [{ quantity: 'temperature', value: 4.5, unit: '°C' }]],
        ['t=warm', 'bad-value'],
      ],
    );
    ok(await admin.call('stopSerialPreview', { previewId: String(started.previewId) }));
    await waitFor('the end of the preview', () => events.some((e) => e.type === 'serial-preview-ended' && e.previewId === started.previewId));
    const refused = await admin.call('startSerialPreview', { entry: { path: pair.a, format: 'kv' } });
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { field?: string }).field, 'entry.sensorId');
  });

  it('BLE pairing: a wrong bind key is refused, the right one accepted', async () => {
    const session = ok(await admin.call('startPairing', {}));
    const secret = await mock.addDevice('hci0', VECTORS.mac, 'freezer');
    await mock.advertise(secret, -50, { serviceData: { [BTHOME_UUID]: VECTORS.encrypted1.slice(4) } });
    await waitFor('the encrypted device on the socket', () =>
      events.some((e) => e.type === 'pairing-nearby' && e.sessionId === session.sessionId && e.devices.some((d) => d.mac === VECTORS.mac && d.encrypted)),
    );
    const wrong = await admin.call('addBleSensor', { mac: VECTORS.mac, id: 'freezer', bindKey: VECTORS.wrongKey });
    assert.equal(wrong.status, 400);
    assert.equal((wrong.body as { field?: string }).field, 'bindKey');
    assert.match((wrong.body as { message: string }).message, /wrong bind key/);
    assert.deepEqual(ok(await admin.call('addBleSensor', { mac: VECTORS.mac, id: 'freezer', bindKey: VECTORS.bindKey })), { version: 'unchanged' });
    assert.deepEqual(ble.pairing.list().map((e) => e.id), ['freezer']);
    ok(await admin.call('stopPairing', { sessionId: String(session.sessionId) }));
  });

  it('testCloud with a wrong CA answers unknown-ca with a hint; with the right one, ok', async () => {
    const client = await pki.issueClientCert({ cn: GATEWAY_ID });
    const settings = { url: broker.url, certFile: client.certPath, keyFile: client.keyPath };
    const wrong = ok(await admin.call('testCloud', { settings: { ...settings, caFile: otherCa.ca.certPath } }));
    assert.equal(wrong.ok, false);
    assert.equal(wrong.kind, 'unknown-ca');
    assert.match(String(wrong.hint), /upload the CA/);
    const uploaded = ok(await admin.call('uploadCa', { pem: pki.ca.certPem }));
    assert.equal(ok(await admin.call('testCloud', { settings: { ...settings, caFile: String(uploaded.caFile) } })).ok, true);
  });

  it('a CSR download, then a certificate import', async () => {
    const csr = ok(await admin.call('createCsr', {}));
    assert.equal(csr.fileName, `${GATEWAY_ID}.csr`);
    const signed = await pki.signCsr(String(csr.pem), { days: 30 });
    const imported = ok(await admin.call('importCertificate', { pem: signed }));
    assert.equal(imported.status, 'ok');
    assert.equal((imported.certificate as { subject: string }).subject, `CN=${GATEWAY_ID}`);
    const foreign = await admin.call('importCertificate', { pem: await otherCa.signCsr(String(ok(await admin.call('createCsr', {})).pem), { days: 30 }) });
    assert.equal(foreign.status, 400);
    assert.equal((foreign.body as { field?: string }).field, 'pem');
  });

  async function upload(bytes: Buffer): Promise<Record<string, unknown>> {
    return ok(await admin.request('POST', '/api/ota/bundle', { raw: bytes, headers: { 'content-type': 'application/octet-stream' } }));
  }

  it('a tampered bundle upload is refused with its reason; a valid one installs and the socket sees its progress', async () => {
    const tamperedRelease = box.release(1, SCRIPTS.good);
    const tampered = await bundleBytes(tamperedRelease);
    const at = offsetOf(tampered, tamperedRelease.files[1]?.data as Buffer) + 10;
    tampered[at] = (tampered[at] as number) ^ 0x80;
    const refusedUpload = await upload(tampered);
    const verdict = ok(await admin.call('verifyBundle', { bundleId: String(refusedUpload.bundleId) }));
    assert.deepEqual([verdict.ok, verdict.reason], [false, 'file-hash-mismatch']);

    const valid = await upload(await bundleBytes(box.release(1, SCRIPTS.good)));
    assert.equal(ok(await admin.call('verifyBundle', { bundleId: String(valid.bundleId) })).ok, true);
    assert.deepEqual(ok(await admin.call('installBundle', { bundleId: String(valid.bundleId) })), { bundleId: valid.bundleId, started: true });
    const progress = await waitFor(
      'the install to finish',
      () => {
        const seen = events.filter((e) => e.type === 'ota-progress' && e.bundleId === valid.bundleId);
        return seen.some((e) => e.type === 'ota-progress' && (e.phase === 'done' || e.phase === 'failed')) && seen;
      },
      90_000,
    );
    assert.deepEqual([...new Set(progress.map((e) => e.type === 'ota-progress' && e.phase))], ['verifying', 'staging', 'switching', 'done']);
    assert.equal((ok(await admin.call('otaStatus', {})).current as { version: string }).version, '1.0.1');
  });
});
