/**
 * The fleet simulator: N gateways in this process against one real Mosquitto with mutual TLS. Each
 * gateway is the production pair MemoryBuffer + Uplink (the same code `fieldgate run` wires, with an
 * in-memory buffer instead of the SQLite file), its own client certificate from one test CA, and a
 * simulated sensor. Scenario per reconnect strategy: steady state, broker restart, recovery, drain.
 * Both strategies run in the same invocation against the same broker, so their ratio is measured,
 * not assumed.
 */
import { connect, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { MemoryBuffer } from '../../main/buffer/memory-buffer.js';
import { silentLogger } from '../../main/log/logger.js';
import { createMetricsRegistry, type Registry } from '../../main/metrics/registry.js';
import { SimSource } from '../../main/sensors/sim/sim-source.js';
import { systemClock } from '../../main/shared/clock.js';
import { bufferSchema } from '../../main/shared/config/buffer.js';
import { cloudSchema } from '../../main/shared/config/cloud.js';
import type { TlsCredentials } from '../../main/shared/tls.js';
import { Uplink } from '../../main/uplink/uplink.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { fleetCredentials } from './certs.js';

export interface FleetOptions {
  gateways: number;
  /** Readings per second of each gateway's simulated sensor. */
  rate: number;
  /** Steady state before the broker restart. */
  steadyMs: number;
  /** How long the broker stays down. */
  outageMs: number;
  /** Give up waiting for recovery or delivery after this long. */
  timeoutMs: number;
  say: (line: string) => void;
}

/** How the simulated gateways pace their reconnects. */
export interface Strategy {
  name: 'full-jitter' | 'fixed-period';
  description: string;
  backoff: { initialMs: number; maxMs: number; stableMs: number };
  /** The uplink's jitter source; a constant just below 1 turns full jitter into a fixed period of `maxMs`. */
  random: () => number;
}

export const STRATEGIES: readonly Strategy[] = [
  {
    name: 'full-jitter',
    description: 'the uplink defaults: delay uniform in [0, min(60 s, 1 s * 2^n))',
    backoff: cloudSchema.in.shape.backoff.parse(undefined),
    random: Math.random,
  },
  {
    name: 'fixed-period',
    description: "mqtt.js's default reconnectPeriod: every gateway retries 1 s after each failure",
    backoff: { initialMs: 1_000, maxMs: 1_000, stableMs: 30_000 },
    random: () => 0.999_999,
  },
];

export interface StrategyReport {
  strategy: Strategy['name'];
  description: string;
  /** Connection attempts the broker logged, per second from its restart (index 0 = the second it logged "running"; it includes the harness's one readiness probe). */
  brokerConnectionsPerSecond: number[];
  peakConnectionsPerSecond: number;
  /** Second (after the restart) in which the peak fell. */
  peakAtSecond: number;
  /** Failed connect attempts per gateway while the broker was down (refused before reaching it). */
  failedAttemptsPerGatewayWhileDown: number;
  /** Connections the broker saw until every gateway was back, per gateway (1 = no failed attempt; the series includes one start-up probe). */
  connectionsPerGateway: number;
  secondsTo99PercentBack: number;
  secondsTo100PercentBack: number;
  gatewaysBack: number;
  readings: { accepted: number; deliveredUnique: number; lost: number; duplicates: number };
  tlsHandshakes: { full: number; resumed: number };
  /** This process's CPU time (all gateways) from the restart until every gateway was back. */
  simulatorCpuSecondsDuringRecovery: number;
  /** The broker's CPU time over the same span (from /proc/<pid>/stat): what the reconnect storm costs the broker. */
  brokerCpuSecondsDuringRecovery: number;
}

export interface FleetReport {
  gateways: number;
  cpus: number;
  /** The machine's 1-minute load average when the run started: times stretch on a busy machine. */
  loadAverageAtStart: number;
  node: string;
  ratePerGatewayPerSecond: number;
  steadySeconds: number;
  outageSeconds: number;
  memoryPerGatewayKb: { rss: number; heapUsed: number };
  strategies: StrategyReport[];
  /** fixed-period ÷ full-jitter peak connections per second at the broker. */
  peakConnectionsRatioFixedToJitter: number;
  totalSeconds: number;
}

interface SimGateway {
  id: string;
  buffer: MemoryBuffer;
  uplink: Uplink;
  sim: SimSource;
  metrics: Registry;
  accepted: number;
  /** Samples handed to the buffer whose accept has not returned yet. */
  accepting: number;
}

const SENSOR = 's1';

/** The cloud side: one persistent-session subscriber counting every (gateway, seq) it receives. */
class Ingest {
  readonly seen = new Map<string, Set<number>>();
  private readonly duplicatesOf = new Map<string, number>();
  private constructor(private readonly client: MqttClient) {}

  static async start(broker: Mosquitto, credentials: TlsCredentials): Promise<Ingest> {
    const client = connect(broker.url, {
      ...credentials,
      protocolVersion: 5,
      clientId: 'fleet-ingest',
      clean: false,
      properties: { sessionExpiryInterval: 3_600 },
      reconnectPeriod: 200,
    });
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const ingest = new Ingest(client);
    client.on('message', (topic, payload) => ingest.receive(topic, payload));
    await client.subscribeAsync(`${broker.prefix}/+/readings/#`, { qos: 1 });
    return ingest;
  }

  delivered(gatewayId: string): number {
    return this.seen.get(gatewayId)?.size ?? 0;
  }

  duplicates(gatewayId: string): number {
    return this.duplicatesOf.get(gatewayId) ?? 0;
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }

  private receive(topic: string, payload: Buffer): void {
    const gatewayId = topic.split('/')[1] as string;
    let seqs = this.seen.get(gatewayId);
    if (!seqs) this.seen.set(gatewayId, (seqs = new Set()));
    for (const reading of (JSON.parse(payload.toString()) as { readings: Array<{ seq: number }> }).readings) {
      if (seqs.has(reading.seq)) this.duplicatesOf.set(gatewayId, this.duplicates(gatewayId) + 1);
      else seqs.add(reading.seq);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

function createGateway(id: string, broker: Mosquitto, credentials: TlsCredentials, strategy: Strategy, rate: number): SimGateway {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const buffer = new MemoryBuffer({ options: bufferSchema.parse({}), log: silentLogger, clock: systemClock });
  const uplink = new Uplink({
    buffer,
    config: cloudSchema.parse({ url: broker.url, caFile: 'ca.pem', certFile: 'cert.pem', keyFile: 'key.pem', backoff: strategy.backoff }),
    gatewayId: id,
    credentials: async () => credentials,
    log: silentLogger,
    clock: systemClock,
    metrics,
    version: 'fleet-sim',
    random: strategy.random,
  });
  const gateway: SimGateway = { id, buffer, uplink, metrics, accepted: 0, accepting: 0, sim: undefined as unknown as SimSource };
  gateway.sim = new SimSource({
    sensors: [{ id: SENSOR, rate, quantities: ['temperature'] }],
    sink: {
      accept: async (sample) => {
        gateway.accepting++;
        try {
          await buffer.accept(sample);
          gateway.accepted++;
        } finally {
          gateway.accepting--;
        }
        uplink.wake();
      },
    },
    log: silentLogger,
    clock: systemClock,
  });
  return gateway;
}

async function handshakes(gateways: readonly SimGateway[]): Promise<{ full: number; resumed: number }> {
  const total = { full: 0, resumed: 0 };
  for (const gateway of gateways) {
    for (const value of (await gateway.metrics.getSingleMetric('fieldgate_uplink_tls_handshakes_total')?.get())?.values ?? []) {
      total[value.labels.resumed === 'true' ? 'resumed' : 'full'] += value.value;
    }
  }
  return total;
}

/**
 * Connection attempts per second in the broker log, from `fromSecond` to `toSecond`: Mosquitto logs
 * `<epoch>: New connection from …` once it has a TLS connection and its CONNECT, and `Client
 * connection from … failed: …` for a TLS handshake that did not complete.
 */
function connectionsPerSecond(log: string, fromSecond: number, toSecond: number): number[] {
  const series = new Array<number>(Math.max(0, toSecond - fromSecond + 1)).fill(0);
  for (const match of log.matchAll(/^(\d+): (?:New connection from |Client connection from \S+ failed)/gm)) {
    const index = Number(match[1]) - fromSecond;
    if (index >= 0 && index < series.length) series[index] = (series[index] ?? 0) + 1;
  }
  return series;
}

function percentileOf(sorted: readonly number[], fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ): 100 on Linux builds for every common architecture. */
const USER_HZ = 100;

/** User plus system CPU seconds a process has used so far (NaN when it is not running). */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  // Fields after the parenthesised command name (which may contain spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

function heapSnapshot(): { rss: number; heapUsed: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

async function runStrategy(
  strategy: Strategy,
  context: { broker: Mosquitto; pki: Pki; ingest: Ingest; options: FleetOptions; measureMemory: boolean },
): Promise<{ report: StrategyReport; memory?: { rss: number; heapUsed: number } }> {
  const { broker, ingest, options } = context;
  const t0 = Date.now();
  const say = (line: string) => options.say(`[${strategy.name} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const ids = Array.from({ length: options.gateways }, (_, i) => `gw-${strategy.name === 'full-jitter' ? 'j' : 'f'}${String(i + 1).padStart(5, '0')}`);
  const credentials = await fleetCredentials(context.pki, ids);
  const before = heapSnapshot();
  const gateways = ids.map((id) => createGateway(id, broker, credentials.get(id) as TlsCredentials, strategy, options.rate));
  // Boxes of a fleet do not all boot in the same millisecond: start them in small groups.
  for (let i = 0; i < gateways.length; i += 50) {
    await Promise.all(
      gateways.slice(i, i + 50).map(async (g) => {
        await g.buffer.start(new AbortController().signal);
        await g.uplink.start();
        await g.sim.start();
      }),
    );
    await sleep(50);
  }
  const connected = () => gateways.filter((g) => g.uplink.status().state === 'connected').length;
  if (!(await until(() => connected() === gateways.length, options.timeoutMs))) throw new Error(`only ${connected()} of ${gateways.length} gateways connected at start`);
  say(`${gateways.length} gateways connected; steady state for ${options.steadyMs / 1000} s`);
  await sleep(options.steadyMs);
  const memory = context.measureMemory ? heapSnapshot() : undefined;

  // Failed attempts, not the loss of the connection itself (`connection-lost`, once per gateway at the stop).
  const failures = () =>
    gateways.reduce((sum, g) => sum + Object.entries(g.uplink.status().errors).reduce((count, [kind, n]) => (kind === 'connection-lost' ? count : count + n), 0), 0);
  say('stopping the broker');
  await broker.stop();
  const failuresAtStop = failures();
  say(`broker stopped; down for ${options.outageMs / 1000} s`);
  await sleep(options.outageMs);
  const failedWhileDown = failures() - failuresAtStop;
  const logOffset = broker.log().length;
  say(`${failedWhileDown} failed attempts while down; starting the broker`);
  await broker.start();
  const restartedAt = Date.now();
  say('broker started');
  const cpuBefore = process.cpuUsage();
  const brokerCpuBefore = processCpuSeconds(broker.pid());
  const backSince = (g: SimGateway) => {
    const status = g.uplink.status();
    const since = status.state === 'connected' && status.connectedSince ? Date.parse(status.connectedSince) : Number.NaN;
    return since >= restartedAt - 1_000 ? since : Number.NaN;
  };
  const allBack = await until(() => gateways.every((g) => !Number.isNaN(backSince(g))), options.timeoutMs, 100);
  const backAt = gateways.map(backSince).filter((t) => !Number.isNaN(t)).map((t) => Math.max(0, t - restartedAt) / 1000).sort((a, b) => a - b);
  const cpu = process.cpuUsage(cpuBefore);
  const brokerCpu = processCpuSeconds(broker.pid()) - brokerCpuBefore;
  say(`${backAt.length}/${gateways.length} back after the restart, the last after ${round(backAt.at(-1) ?? Number.NaN)} s`);

  await sleep(1_000);
  for (const g of gateways) await g.sim.stop();
  // A sample the sim handed over just before it stopped may still be on its way into the buffer.
  await until(() => gateways.every((g) => g.accepting === 0), options.timeoutMs);
  const accepted = gateways.reduce((sum, g) => sum + g.accepted, 0);
  const drained = () => gateways.every((g) => ingest.delivered(g.id) >= g.accepted);
  if (!(await until(drained, options.timeoutMs, 100))) say('not every accepted reading reached the ingest before the timeout');
  // Read the broker's log only now: on a busy machine its lines reach this process late.
  // Second 0 is when the broker said it runs: gateways may connect before the harness's probe gets through.
  const restartLog = broker.log().slice(logOffset);
  const runningSecond = Number(/^(\d+): mosquitto version \S+ running/m.exec(restartLog)?.[1] ?? Math.floor(restartedAt / 1000));
  const lastBackSecond = Math.floor((restartedAt + (backAt.at(-1) ?? 0) * 1000) / 1000);
  const series = connectionsPerSecond(restartLog, runningSecond, lastBackSecond + 1);
  const peak = Math.max(...series);
  const tls = await handshakes(gateways);
  await Promise.all(gateways.map((g) => g.uplink.stop()));
  await Promise.all(gateways.map((g) => g.buffer.stop()));
  const deliveredUnique = gateways.reduce((sum, g) => sum + Math.min(ingest.delivered(g.id), g.accepted), 0);
  const duplicates = ids.reduce((sum, id) => sum + ingest.duplicates(id), 0);
  const report: StrategyReport = {
    strategy: strategy.name,
    description: strategy.description,
    brokerConnectionsPerSecond: series,
    peakConnectionsPerSecond: peak,
    peakAtSecond: series.indexOf(peak),
    failedAttemptsPerGatewayWhileDown: round(failedWhileDown / gateways.length),
    connectionsPerGateway: round(series.reduce((a, b) => a + b, 0) / gateways.length),
    secondsTo99PercentBack: allBack || backAt.length >= Math.ceil(0.99 * gateways.length) ? round(percentileOf(backAt, 0.99)) : Number.NaN,
    secondsTo100PercentBack: allBack ? round(backAt.at(-1) as number) : Number.NaN,
    gatewaysBack: backAt.length,
    readings: { accepted, deliveredUnique, lost: accepted - deliveredUnique, duplicates },
    tlsHandshakes: tls,
    simulatorCpuSecondsDuringRecovery: round((cpu.user + cpu.system) / 1e6),
    brokerCpuSecondsDuringRecovery: round(brokerCpu),
  };
  say(JSON.stringify(report.readings));
  return {
    report,
    ...(memory && { memory: { rss: (memory.rss - before.rss) / gateways.length, heapUsed: (memory.heapUsed - before.heapUsed) / gateways.length } }),
  };
}

export async function runFleet(options: FleetOptions): Promise<FleetReport> {
  const started = performance.now();
  const loadAverageAtStart = round(loadavg()[0] ?? Number.NaN);
  const pki = await createPki();
  let broker: Mosquitto | undefined;
  let ingest: Ingest | undefined;
  try {
    broker = await startMosquitto({
      pki,
      // The ingest's persistent session and what was queued for it survive the restart.
      persistence: true,
      // Readings queue for the ingest while it reconnects after the restart: no broker-side cap may drop them.
      extraConfig: ['max_queued_messages 0', 'log_timestamp true'],
    });
    const reader = await pki.issueClientCert({ cn: broker.readerCn });
    ingest = await Ingest.start(broker, { ca: pki.ca.certPem, cert: reader.certPem, key: reader.keyPem });
    options.say(`fleet: ${options.gateways} gateways per strategy against mosquitto at ${broker.url}, ${cpus().length} CPUs`);
    const reports: StrategyReport[] = [];
    let memory: { rss: number; heapUsed: number } | undefined;
    for (const strategy of STRATEGIES) {
      const result = await runStrategy(strategy, { broker, pki, ingest, options, measureMemory: memory === undefined });
      reports.push(result.report);
      memory ??= result.memory;
    }
    const [jitter, fixed] = reports as [StrategyReport, StrategyReport];
    return {
      gateways: options.gateways,
      cpus: cpus().length,
      loadAverageAtStart,
      node: process.version,
      ratePerGatewayPerSecond: options.rate,
      steadySeconds: options.steadyMs / 1000,
      outageSeconds: options.outageMs / 1000,
      memoryPerGatewayKb: { rss: round((memory?.rss ?? Number.NaN) / 1024, 1), heapUsed: round((memory?.heapUsed ?? Number.NaN) / 1024, 1) },
      strategies: reports,
      peakConnectionsRatioFixedToJitter: round(fixed.peakConnectionsPerSecond / jitter.peakConnectionsPerSecond),
      totalSeconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await ingest?.close();
    await broker?.cleanup();
    await pki.cleanup();
  }
}
