import { fileURLToPath } from 'node:url';
import type { ConfigDocument } from '../config/document.js';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Alert } from '../shared/alert.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { Component } from '../shared/lifecycle.js';
import type { Sample } from '../shared/reading.js';
import type { SampleSink, Source } from '../shared/source.js';
import { AlertCenter } from '../alerts/alert-center.js';
import { HealthProbe } from '../alerts/health.js';
import { AlertRules } from '../alerts/rules.js';
import { CREDENTIAL_GUESSES } from '../api/auth.js';
import type { ApiBackends } from '../api/backends.js';
import { certificateSummary } from '../api/certificate-summary.js';
import { configVersion, createConfigReadBackend } from '../api/config-read-backend.js';
import { ControlApi } from '../api/control-api.js';
import { ApiServer } from '../api/http-server.js';
import { createStatusBackend } from '../api/status-backend.js';
import { identityStoreFromConfig, keyStoreFromConfig } from '../identity/from-config.js';
import { IdentityService } from '../identity/identity-service.js';
import type { CertificateRotation } from '../identity/rotation.js';
import type { IdentityStore } from '../identity/store.js';
import { OtaService } from '../ota/ota-service.js';
import { otaSchema } from '../shared/config/ota.js';
import { SqliteBuffer } from '../buffer/sqlite-buffer.js';
import { createDeviceIdentity, usesOnBoxIdentity } from '../identity/device-identity.js';
import { LogRing } from '../log/log-ring.js';
import { namespaced } from '../log/logger.js';
import { ThroughputHistory } from '../metrics/history.js';
import { SensorMetrics } from '../metrics/sensor-metrics.js';
import type { BleSource } from '../sensors/ble/ble-source.js';
import { BlePairingService } from '../sensors/ble/pairing-service.js';
import { SystemPortDiscovery } from '../sensors/serial/discovery.js';
import { SerialSetup, type ConfiguredSerialPorts } from '../sensors/serial/preview.js';
import { FIELDGATE_VERSION } from '../shared/version.js';
import { configuredCredentialProvider } from '../uplink/credentials.js';
import { CloudTester } from '../uplink/test-connection.js';
import { Uplink } from '../uplink/uplink.js';
import { createConfigBackends } from './config-backend.js';
import { createDataBackends, publishDataEvents } from './data-backends.js';
import { EventBus } from './event-bus.js';
import { LiveConfig } from './live-config.js';
import { Attached, createSource, withOwnMetrics } from './parts.js';
import { liveParts, planReconcile } from './reconcile-plan.js';
import { Supervisor } from './supervisor.js';
import { alertsFile, bufferFile, cloudCaDir, otaRootFor } from '../config/location.js';

const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** What the gateway's parts tell each other without holding references to one another. */
export interface GatewayEvents {
  /** The sample is durable in the buffer (its group commit returned). */
  sampleAccepted: Sample;
  /** A part's alert; the alerts component turns it into a raise, clear or notice. */
  alert: Alert;
  /** The running gateway now follows config `version`. */
  configApplied: ConfigApplied;
}

export interface ReconcileOutcome {
  /** Parts stopped, started or restarted (`sim:t1`, `serial:p1`, `ble`, `uplink`, `api`). */
  restarted: string[];
  /** Changed sections that only apply at the next service start (gateway, log, buffer, identity, ota). */
  needsRestart: string[];
}

export interface ConfigApplied extends ReconcileOutcome {
  version: string;
}

export interface GatewayDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  /** The ring `createLogger({ ring })` feeds; the API's log view reads it (empty when not given). */
  logs?: LogRing;
  /** The file `config` was read from, at `version`: with it the gateway follows edits and reloads (`live`). */
  file?: { document: ConfigDocument; version: string };
}

export interface Gateway {
  supervisor: Supervisor;
  bus: EventBus<GatewayEvents>;
  buffer: SqliteBuffer;
  /** The running sources, one per sim sensor and serial port entry, plus BLE; follows the config. */
  readonly sources: readonly Source[];
  /** Absent when no cloud is configured: readings are buffered until one is. Replaced on a cloud change. */
  readonly uplink: Uplink | undefined;
  /** Present while BLE is configured; replaced when its section changes. */
  readonly ble: BleSource | undefined;
  /** What the control API serves; the setup services (serial, BLE, cloud test, identity, OTA) are added by their wiring. */
  api: ApiBackends;
  /** Accounts, sessions, handlers and events: what HTTP and Electron IPC call through. Built once; survives a ui change. */
  control: ControlApi;
  /** Present when the UI is enabled; replaced on a ui change. */
  readonly apiServer: ApiServer | undefined;
  /** Active and recent alerts, persisted; the rules raise and clear them. */
  alerts: AlertCenter;
  rules: AlertRules;
  health: HealthProbe;
  /** The last 5,000 log entries. */
  logs: LogRing;
  /** Accepted readings per second and buffer depth over the last hour. */
  history: ThroughputHistory;
  /** Latest value per sensor and quantity, with change notifications. */
  values: SensorMetrics;
  /** The config the running parts were built from. */
  config(): Config;
  /** Makes the running gateway follow `next`: restarts only the parts whose config changed; the buffer never restarts. */
  apply(next: Config): Promise<ReconcileOutcome>;
  /** Edits and reloads of the config file; absent when the gateway was built from a config without a file. */
  live: LiveConfig | undefined;
  /** The configured serial ports, for the serial preview: pausing one stops just its part until resumed. */
  serialPorts: ConfiguredSerialPorts;
}

interface RunningPart {
  components: Component[];
  /** Undoes what building the part registered (metrics, status reporter, the running list). */
  release: () => void;
  /** Sensors it reported, forgotten (values, gauges) when the part goes for good. */
  sensorIds?: () => string[];
}

/**
 * Composition root: builds every component from config, orders them by dependency, and on a config
 * change swaps only the parts whose config changed. Parts meet through the event bus, never by
 * holding each other: the buffer and identity raise alerts and the sink announces durable samples;
 * the uplink (whichever is current) listens while it runs.
 */
export function buildGateway(deps: GatewayDeps): Gateway {
  const { clock } = deps;
  let current = deps.config;
  const log = namespaced(deps.log, 'service');
  const bus = new EventBus<GatewayEvents>({ log });
  const buffer = new SqliteBuffer({
    file: bufferFile(current),
    options: current.buffer,
    log: namespaced(deps.log, 'buffer'),
    clock,
    metrics: deps.metrics,
    onAlert: (alert) => bus.emit('alert', { type: 'buffer-alert', ...alert }),
  });
  const sink: SampleSink = {
    async accept(sample: Sample) {
      await buffer.accept(sample);
      bus.emit('sampleAccepted', sample);
    },
  };
  const sources: Source[] = [];
  const runningBle = () => sources.find((source): source is BleSource => source.name === 'ble');
  const values = new SensorMetrics({ registry: deps.metrics, sources: () => sources, clock });
  const history = new ThroughputHistory({ clock, depth: () => buffer.stats(clock.now()).depth });
  bus.on('sampleAccepted', (sample) => values.observe(sample));
  bus.on('sampleAccepted', (sample) => history.count(sample.sensorId));
  const alerts = new AlertCenter({
    file: alertsFile(current),
    gatewayId: current.gateway.id,
    keepRecent: () => current.alerts.keepRecent,
    log: namespaced(deps.log, 'alerts'),
    clock,
    metrics: deps.metrics,
  });
  bus.on('alert', (alert) => alerts.report(alert));
  const rules = new AlertRules({
    alerts,
    config: () => current,
    sensors: () => sources.flatMap((source) => source.sensors()),
    buffer: (now) => buffer.stats(now),
    uplink: () => state.uplink?.status(),
    loginFailures: async () => {
      const byReason = await counterSums(deps.metrics, 'fieldgate_api_auth_failures_total', 'reason');
      return CREDENTIAL_GUESSES.reduce((sum, reason) => sum + (byReason.get(reason) ?? 0), 0);
    },
    serialLines: async () => {
      const [lines, rejected] = await Promise.all([counterSums(deps.metrics, 'fieldgate_serial_lines_total', 'port'), counterSums(deps.metrics, 'fieldgate_serial_rejects_total', 'port')]);
      return [...lines].map(([port, total]) => ({ port, lines: total, rejected: rejected.get(port) ?? 0 }));
    },
    certificateNotBefore: () => (state.identity ? certificateSummary(current, state.identity.store, state.identity.onBox)?.info.notBefore : undefined),
    log: namespaced(deps.log, 'alerts'),
    clock,
    metrics: deps.metrics,
  });
  bus.on('sampleAccepted', (sample) => rules.observe(sample.sensorId));
  const health = new HealthProbe({
    metrics: deps.metrics,
    components: () => state.supervisor?.report() ?? [],
    expected: () => ['alerts', 'buffer', ...[...liveParts(current).keys()].filter((name) => name !== 'uplink')],
    now: () => clock.now(),
  });
  const running = new Map<string, RunningPart>();
  const state: {
    uplink?: Uplink;
    identity?: { store: IdentityStore; onBox: boolean };
    rotation?: CertificateRotation;
    apiServer?: ApiServer;
    supervisor?: Supervisor;
    live?: LiveConfig;
  } = {};
  const logs = deps.logs ?? new LogRing();

  const api: ApiBackends = {
    status: createStatusBackend({
      gatewayId: current.gateway.id,
      startedAt: new Date(clock.now()),
      components: () => state.supervisor?.report() ?? [],
      sources: () => sources,
      buffer: (now) => buffer.stats(now),
      uplink: () => state.uplink?.status(),
      certificate: () => (state.identity ? certificateSummary(current, state.identity.store, state.identity.onBox) : undefined),
      alerts: () => ({ active: alerts.active(), counts: alerts.counts() }),
      keyStore: keyStoreFromConfig(current).summary,
      now: () => clock.now(),
    }),
    config: createConfigReadBackend(() => current),
    ...createDataBackends({ values, history, logs }),
    alerts: { alerts: () => ({ active: alerts.active(), recent: alerts.recent() }) },
  };
  const apiLog = namespaced(deps.log, 'api');
  const control = new ControlApi({ backends: api, ui: current.ui, dataDir: current.gateway.dataDir, metrics: deps.metrics, log: apiLog, now: () => clock.now() });
  publishDataEvents({ values, logs, events: control.events });
  alerts.onChange((change) => {
    control.events.publish({ type: 'alert', alert: change.alert });
    state.uplink?.wake();
    if (change.event !== 'notice') state.uplink?.refreshStatus();
  });
  // Parts change one operation at a time: a reconcile never interleaves with a pause or resume.
  let queue: Promise<unknown> = Promise.resolve();
  function serially<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  }
  /** Serial parts a preview paused: a reconcile leaves them stopped until the preview resumes them. */
  const paused = new Set<string>();

  async function stopPart(name: string): Promise<void> {
    const part = running.get(name);
    if (!part) return;
    running.delete(name);
    for (const component of [...part.components].reverse()) await supervisor.replace(component.name, undefined);
    part.release();
  }

  async function startPart(name: string, config: Config): Promise<void> {
    if (paused.has(name)) return;
    const part = build(name, config);
    running.set(name, part);
    const placement = name === 'api' ? {} : { before: 'api' };
    for (const component of part.components) await supervisor.replace(component.name, component, placement);
  }

  function apply(next: Config): Promise<ReconcileOutcome> {
    return serially(async () => {
      const plan = planReconcile(current, next);
      current = next;
      const restarted = [...new Set([...plan.stop, ...plan.start])];
      const gone: string[] = [];
      for (const name of plan.stop.filter((n) => n !== 'api')) {
        if (!plan.start.includes(name)) gone.push(...(running.get(name)?.sensorIds?.() ?? []));
        await stopPart(name);
      }
      if (gone.length > 0) {
        // Samples a stopped source handed over are still being committed; once they are announced, forget their sensors.
        await buffer.flush();
        await new Promise((resolve) => setImmediate(resolve));
        gone.forEach((sensorId) => values.forget(sensorId));
      }
      for (const name of plan.start.filter((n) => n !== 'api')) await startPart(name, next);
      // The edit may have come over HTTP: closing the server waits for that request, which waits
      // for this apply, so the API server is replaced in the next turn, once the answer is out.
      if (restarted.includes('api')) {
        serially(async () => {
          await stopPart('api');
          if (liveParts(current).has('api')) await startPart('api', current);
        }).catch((error: unknown) => log.error({ err: error }, 'could not replace the API server'));
      }
      if (restarted.length > 0) log.info({ restarted }, 'config applied');
      if (plan.needsRestart.length > 0) {
        log.warn({ sections: plan.needsRestart }, 'these config sections change only when the service restarts');
      }
      return { restarted, needsRestart: plan.needsRestart };
    });
  }

  const serialPorts: ConfiguredSerialPorts = {
    configured: () => current.sensors.serial,
    pause: (portId) =>
      serially(async () => {
        paused.add(`serial:${portId}`);
        await stopPart(`serial:${portId}`);
      }),
    resume: (portId) =>
      serially(async () => {
        const name = `serial:${portId}`;
        if (!paused.delete(name)) return;
        if (liveParts(current).has(name)) await startPart(name, current);
      }),
  };

  const setup = buildSetupServices();
  Object.assign(api, setup.backends);
  bus.on('configApplied', () => void Promise.resolve(api.status.status()).then((status) => control.events.publish({ type: 'status', status })));

  /** The cloud part: the identity monitor (on-box identity) before the uplink, certificate rotation after it. */
  function buildCloud(config: Config): RunningPart {
    const cloud = config.cloud as NonNullable<Config['cloud']>;
    const identity = createDeviceIdentity({
      config,
      log: deps.log,
      clock,
      metrics: deps.metrics,
      onAlert: (alert) => bus.emit('alert', { type: 'identity-alert', ...alert }),
    });
    const onBox = usesOnBoxIdentity(config, identity.store);
    const { built: uplink, release } = withOwnMetrics(deps.metrics, () =>
      new Uplink({
        buffer,
        config: cloud,
        gatewayId: config.gateway.id,
        credentials: onBox ? identity.credentials.provide : configuredCredentialProvider(cloud),
        log: namespaced(deps.log, 'uplink'),
        clock,
        metrics: deps.metrics,
        version: FIELDGATE_VERSION,
        onAlert: (alert) => bus.emit('alert', alert),
        alerts,
      }),
    );
    const attached = new Attached(uplink, (u) => [bus.on('sampleAccepted', () => u.wake())]);
    state.uplink = uplink;
    state.identity = { store: identity.store, onBox };
    const rotation = onBox ? identity.rotation(uplink) : undefined;
    state.rotation = rotation;
    return {
      components: rotation ? [identity.monitor, attached, rotation] : [attached],
      release: () => {
        release();
        if (state.uplink === uplink) {
          delete state.uplink;
          delete state.identity;
          delete state.rotation;
        }
      },
    };
  }

  /** The setup flows' services (serial preview, BLE pairing, cloud test, identity, OTA) on the running parts. */
  function buildSetupServices(): { backends: Partial<ApiBackends>; components: Component[] } {
    const events = control.events;
    const serial = new SerialSetup({ ports: serialPorts, discovery: new SystemPortDiscovery({ log: namespaced(deps.log, 'serial') }), events, log: namespaced(deps.log, 'serial'), clock });
    const ble = new BlePairingService({
      pairing: () => runningBle()?.pairing,
      events,
      configVersion: async () => (state.live ? (await state.live.read()).version : configVersion(current)),
      log: namespaced(deps.log, 'ble'),
      clock,
    });
    const store = identityStoreFromConfig(current);
    const cloud = new CloudTester({
      gatewayId: current.gateway.id,
      onBoxIdentity: { certFile: store.paths.cert, key: (certPem) => store.usableKey(certPem) },
      caDir: cloudCaDir(current),
      log: namespaced(deps.log, 'uplink'),
      clock,
    });
    const identity = new IdentityService({ config: () => current, rotation: () => state.rotation, log: namespaced(deps.log, 'identity'), clock });
    const ota = current.ota
      ? new OtaService({ config: current.ota, root: otaRootFor(current), events, log: namespaced(deps.log, 'ota'), clock, runningVersion: FIELDGATE_VERSION })
      : undefined;
    return { backends: { serial, ble, cloud, identity, ...(ota && { ota }) }, components: [serial, ble] };
  }

  function buildApiServer(config: Config): RunningPart {
    const server = new ApiServer({
      control,
      metrics: deps.metrics,
      ui: config.ui,
      gatewayId: config.gateway.id,
      maxUploadBytes: config.ota?.maxBundleBytes ?? otaSchema.shape.maxBundleBytes.parse(undefined),
      staticDir: RENDERER_DIR,
      log: apiLog,
      now: () => clock.now(),
      health,
    });
    state.apiServer = server;
    return {
      components: [server],
      release: () => {
        if (state.apiServer === server) delete state.apiServer;
      },
    };
  }

  function buildSource(name: string, config: Config): RunningPart {
    const { source, release } = createSource(name, config, {
      sink,
      log: deps.log,
      clock,
      metrics: deps.metrics,
      onBleAlert: (alert) => bus.emit('alert', { type: 'ble-alert', ...alert }),
    });
    sources.push(source);
    return {
      components: [source],
      release: () => {
        release();
        sources.splice(sources.indexOf(source), 1);
      },
      sensorIds: () => source.sensors().map((status) => status.sensorId),
    };
  }

  function build(name: string, config: Config): RunningPart {
    if (name === 'uplink') return buildCloud(config);
    if (name === 'api') return buildApiServer(config);
    return buildSource(name, config);
  }

  if (deps.file) {
    state.live = new LiveConfig({ ...deps.file, apply: (next) => apply(next), bus, log });
    Object.assign(api, createConfigBackends(state.live));
  }
  for (const name of liveParts(current).keys()) running.set(name, build(name, current));
  const supervisor = new Supervisor({
    components: [health, alerts, buffer, history, rules, control, ...setup.components, ...[...running.values()].flatMap((part) => part.components)],
    log,
    stopTimeoutMs: 10_000,
  });
  state.supervisor = supervisor;

  return {
    supervisor,
    bus,
    buffer,
    sources,
    get uplink() {
      return state.uplink;
    },
    get ble() {
      return runningBle();
    },
    api,
    control,
    alerts,
    rules,
    health,
    get apiServer() {
      return state.apiServer;
    },
    logs,
    history,
    values,
    config: () => current,
    apply,
    live: state.live,
    serialPorts,
  };
}

/** A counter in `registry` summed by the value of one label (empty while it is not registered). */
async function counterSums(registry: Registry, name: string, label: string): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return sums;
  for (const { labels, value } of (await metric.get()).values) {
    const key = String(labels[label] ?? '');
    sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return sums;
}
