// The control API with the real setup services behind the real HTTP server, serving the built UI:
// serial preview on a socat pty, BLE pairing over a private D-Bus with dbusmock's BlueZ, the cloud
// test against Mosquitto, the on-box identity and OTA installs into a real box layout.
// `fieldgate run` does not build these services yet (main/service/gateway.ts wires status, config,
// values, history and logs only); once it does, these flows move onto the real process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { test } from 'node:test';
import { ControlApi, apiDataDir } from '../../main/api/control-api.js';
import { EventHub } from '../../main/api/events.js';
import { ApiServer } from '../../main/api/http-server.js';
import { readSetupCode } from '../../main/api/setup-code.js';
import { createStatusBackend } from '../../main/api/status-backend.js';
import { SqliteBuffer } from '../../main/buffer/sqlite-buffer.js';
import { IdentityService } from '../../main/identity/identity-service.js';
import { silentLogger } from '../../main/log/logger.js';
import { createMetricsRegistry } from '../../main/metrics/registry.js';
import { EntrypointLauncher } from '../../main/ota/launcher.js';
import { OtaService } from '../../main/ota/ota-service.js';
import { BleSource } from '../../main/sensors/ble/ble-source.js';
import { BlePairingService } from '../../main/sensors/ble/pairing-service.js';
import { SystemPortDiscovery } from '../../main/sensors/serial/discovery.js';
import { SerialSetup } from '../../main/sensors/serial/preview.js';
import { systemClock } from '../../main/shared/clock.js';
import { bleSchema } from '../../main/shared/config/ble.js';
import { bufferSchema } from '../../main/shared/config/buffer.js';
import { uiSchema } from '../../main/shared/config/gateway.js';
import { otaSchema } from '../../main/shared/config/ota.js';
import { CloudTester } from '../../main/uplink/test-connection.js';
import { BluezMock, PrivateBus } from '../helpers/dbus.js';
import { GATEWAY_ID, workspace, type Workspace } from '../integration/identity/fixtures.js';
import { CLI, OtaBox } from '../integration/ota/ota-harness.js';
import { waitFor } from '../integration/serial/harness.js';
import { fakeBackends } from '../unit/api/fake-backends.js';
import { ARCH, MODEL } from '../unit/ota/bundle-factory.js';

const RENDERER = fileURLToPath(new URL('../../renderer/', import.meta.url));

export interface SetupFlowsGateway {
  url: string;
  setupCode: string;
  mock: BluezMock;
  ble: BleSource;
  box: OtaBox;
  identity: Workspace;
}

export async function startSetupFlowsGateway(t: test.TestContext, options: { caFile: string }): Promise<SetupFlowsGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-ui-flows-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const log = silentLogger;
  const clock = systemClock;
  const identity = workspace({ caFile: options.caFile });
  t.after(() => identity.cleanup());
  const box = await OtaBox.create();
  t.after(() => box.dispose());

  const bus = await PrivateBus.start(dataDir);
  t.after(() => bus.stop());
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  const mock = new BluezMock(bus);
  await mock.start();
  t.after(() => mock.stop());
  const buffer = new SqliteBuffer({ file: join(dataDir, 'buffer.db'), options: bufferSchema.parse({}), log, clock, metrics: createMetricsRegistry({ processMetrics: false }) });
  await buffer.start(new AbortController().signal);
  t.after(() => buffer.stop());
  const ble = new BleSource({ config: bleSchema.parse({}), stateDir: join(dataDir, 'ble'), sink: buffer, log, clock });
  await ble.start();
  t.after(() => ble.stop());
  const adapter = await mock.addAdapter('hci0');
  await waitFor('BLE discovery', async () => ble.scanStatus().adapters[0]?.discovering === true && (await mock.discovering(adapter)));

  const events = new EventHub({ log, now: () => clock.now() });
  const backends = {
    ...fakeBackends(() => events).backends,
    status: createStatusBackend({
      gatewayId: GATEWAY_ID,
      startedAt: new Date(),
      components: () => [],
      sources: () => [ble],
      buffer: (now) => buffer.stats(now),
      uplink: () => undefined,
      certificate: () => undefined,
      now: () => clock.now(),
    }),
    values: { values: () => ({ sensors: [] }) },
    alerts: { alerts: () => ({ active: [], recent: [] }) },
    serial: new SerialSetup({ ports: { configured: () => [], pause: async () => {}, resume: async () => {} }, discovery: new SystemPortDiscovery({ log }), events, log, clock }),
    ble: new BlePairingService({ pairing: () => ble.pairing, events, configVersion: () => 'unchanged', log, clock }),
    cloud: new CloudTester({ gatewayId: GATEWAY_ID, onBoxIdentity: undefined, caDir: join(dataDir, 'cloud-ca'), log, clock }),
    identity: new IdentityService({ config: () => identity.config, rotation: () => undefined, log, clock }),
    ota: new OtaService({
      config: otaSchema.parse({ model: MODEL, arch: ARCH, markGoodTimeoutMs: 60_000, reserveBytes: 0 }),
      root: box.root,
      events,
      log,
      clock,
      runningVersion: '0.1.0',
      shippedKeyset: box.publisher.keyset,
      launcher: new EntrypointLauncher({ env: { ...process.env, FG_CLI: CLI } }),
    }),
  };
  const ui = uiSchema.parse({ port: 0 });
  const metrics = createMetricsRegistry({ processMetrics: false });
  const control = new ControlApi({ backends, ui, dataDir, metrics, log, now: () => Date.now(), events });
  await control.start();
  t.after(() => control.stop());
  const server = new ApiServer({ control, metrics, ui, gatewayId: GATEWAY_ID, maxUploadBytes: 8 * 1024 * 1024, staticDir: RENDERER, log, now: () => Date.now() });
  await server.start();
  t.after(() => server.stop());
  const setupCode = readSetupCode(apiDataDir(dataDir), Date.now())?.code;
  if (!setupCode) throw new Error('no setup code was issued');
  return { url: server.url, setupCode, mock, ble, box, identity };
}
