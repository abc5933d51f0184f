// The chaos run: a real gateway process (sim sensors at a high rate, a serial sensor on a socat
// pty fed by this process) publishing to a real Mosquitto with mutual TLS, while at random the
// gateway is SIGKILLed and restarted, the broker is restarted or stalled (SIGSTOP/SIGCONT), and
// the small filesystem holding the buffer fills up. At the end a persistent-session subscriber
// reconciles each sensor's seqs 1..accepted against what was delivered and what drop records
// explain. `accepted` is the last seq per sensor in the buffer file after the final clean stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Database } from '../../main/sqlite/driver.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { SocatPair } from '../helpers/socat.js';
import { cloudSubscriber, waitFor, type Received } from '../integration/uplink/fixture.js';

const CLI = fileURLToPath(new URL('../../main/cli.js', import.meta.url));
const GATEWAY = 'gw-chaos';
const PREFIX = 'fieldgate';
const SIM_SENSORS = ['sim-a', 'sim-b'];
const SERIAL_SENSOR = 'tty-1';
// Above SQLite's WAL auto-checkpoint size (1000 pages, about 4 MiB): on a smaller filesystem the WAL
// alone can take all the space, and then no checkpoint (which grows the main file) can complete.
const SMALL_FS_BYTES = 16 * 1024 * 1024;
/** Without a mountable filesystem: a cap a minute of backlog exceeds, so capacity drops happen. */
const FALLBACK_MAX_FILE_BYTES = 2 * 1024 * 1024;

export type ChaosAction = 'kill-gateway' | 'restart-broker' | 'stall-broker' | 'fill-disk';

export interface ChaosOptions {
  seconds: number;
  seed?: number;
  /** Sim readings per second per sensor. */
  rate?: number;
  /** Use `buffer.maxFileBytes` even where a tmpfs could be mounted. */
  noMount?: boolean;
  /** Progress lines (stderr in the CLI). */
  say?: (line: string) => void;
}

export interface SensorReconciliation {
  accepted: number;
  delivered: number;
  duplicates: number;
  dropped: number;
  unexplained: number[];
  /** Seqs that arrived but are above `accepted`: a seq was reused or the file lost its counters. */
  deliveredBeyondAccepted: number;
  /** Seqs that arrived although a drop record whose range is exactly its count claims them lost. */
  droppedButDelivered: number;
}

export interface ChaosSummary {
  seconds: number;
  seed: number;
  smallFilesystem: 'tmpfs' | 'maxFileBytes';
  accepted: number;
  delivered: number;
  duplicates: number;
  droppedByReason: Record<string, number>;
  /** Drop records still in the buffer file after the final stop (durable, not yet published). */
  pendingDropRecords: number;
  actions: Record<ChaosAction, number>;
  killsSurvived: number;
  unexplainedLosses: number;
  deliveredBeyondAccepted: number;
  droppedButDelivered: number;
  sensors: Record<string, SensorReconciliation>;
}

/** A small seeded PRNG (mulberry32), so a run can be replayed with `--seed`. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface GatewayProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

function startGateway(configFile: string, logFile: string): GatewayProcess {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

async function signalGateway(gateway: GatewayProcess, signal: NodeJS.Signals): Promise<void> {
  if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill(signal);
  await gateway.exited;
}

/** A tmpfs of a few MiB when this machine allows mounting (root), else undefined. */
function mountSmallFilesystem(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${SMALL_FS_BYTES},mode=0700`, 'tmpfs', dir]).status === 0;
}

/** Feeds jsonl lines into the pty's far end, non-blocking: lines written while nobody reads are lost. */
class SerialFeeder {
  private timer: NodeJS.Timeout | undefined;
  private fd: number | undefined;
  private n = 0;

  constructor(private readonly path: string) {}

  start(perSecond: number): void {
    this.fd = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    this.timer = setInterval(() => {
      try {
        writeSync(this.fd as number, `{"temperature":${(20 + (this.n++ % 100) / 10).toFixed(1)},"n":${this.n}}\n`);
      } catch {
        // EAGAIN: the pty buffer is full while the gateway is down.
      }
    }, 1000 / perSecond);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

interface Received2 {
  sensor: string;
  seq: number;
}

function deliveredReadings(messages: readonly Received[]): Received2[] {
  return messages
    .filter((m) => m.topic.startsWith(`${PREFIX}/${GATEWAY}/readings/`))
    .flatMap((m) => (JSON.parse(m.text) as { readings: Received2[] }).readings);
}

interface DropRange {
  sensor: string;
  reason: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
}

function dropRecords(messages: readonly Received[]): DropRange[] {
  return messages
    .filter((m) => m.topic === `${PREFIX}/${GATEWAY}/alerts`)
    .map((m) => JSON.parse(m.text) as { type?: string } & DropRange)
    .filter((alert) => alert.type === 'readings-dropped');
}

function readBufferFile(file: string): { accepted: Map<string, number>; pending: DropRange[] } {
  const db = new Database(file, { readonly: true });
  try {
    const accepted = new Map((db.prepare('SELECT sensor_id, last_seq FROM sensor_seq').all() as { sensor_id: string; last_seq: number }[]).map((row) => [row.sensor_id, row.last_seq]));
    const pending = (db.prepare('SELECT sensor_id, reason, count, first_seq, last_seq FROM drop_records').all() as { sensor_id: string; reason: string; count: number; first_seq: number; last_seq: number }[]).map(
      (row) => ({ sensor: row.sensor_id, reason: row.reason, count: row.count, firstSeq: row.first_seq, lastSeq: row.last_seq }),
    );
    return { accepted, pending };
  } finally {
    db.close();
  }
}

export function reconcile(accepted: ReadonlyMap<string, number>, delivered: readonly Received2[], drops: readonly DropRange[]): Pick<ChaosSummary, 'accepted' | 'delivered' | 'duplicates' | 'droppedByReason' | 'unexplainedLosses' | 'deliveredBeyondAccepted' | 'droppedButDelivered' | 'sensors'> {
  const sensors: Record<string, SensorReconciliation> = {};
  const droppedByReason: Record<string, number> = {};
  for (const drop of drops) droppedByReason[drop.reason] = (droppedByReason[drop.reason] ?? 0) + drop.count;
  const names = new Set([...accepted.keys(), ...delivered.map((r) => r.sensor)]);
  for (const sensor of names) {
    const last = accepted.get(sensor) ?? 0;
    const seen = new Set<number>();
    let duplicates = 0;
    let beyond = 0;
    for (const reading of delivered) {
      if (reading.sensor !== sensor) continue;
      if (seen.has(reading.seq)) duplicates++;
      seen.add(reading.seq);
      if (reading.seq > last) beyond++;
    }
    const ranges = drops.filter((drop) => drop.sensor === sensor);
    const unexplained: number[] = [];
    for (let seq = 1; seq <= last; seq++) {
      if (seen.has(seq)) continue;
      if (!ranges.some((range) => seq >= range.firstSeq && seq <= range.lastSeq)) unexplained.push(seq);
    }
    const exact = ranges.filter((range) => range.count === range.lastSeq - range.firstSeq + 1);
    const droppedButDelivered = [...seen].filter((seq) => exact.some((range) => seq >= range.firstSeq && seq <= range.lastSeq)).length;
    sensors[sensor] = { accepted: last, delivered: seen.size, duplicates, dropped: ranges.reduce((sum, range) => sum + range.count, 0), unexplained, deliveredBeyondAccepted: beyond, droppedButDelivered };
  }
  const all = Object.values(sensors);
  const sum = (pick: (s: SensorReconciliation) => number) => all.reduce((total, s) => total + pick(s), 0);
  return {
    accepted: sum((s) => s.accepted),
    delivered: sum((s) => s.delivered),
    duplicates: sum((s) => s.duplicates),
    droppedByReason,
    unexplainedLosses: sum((s) => s.unexplained.length),
    deliveredBeyondAccepted: sum((s) => s.deliveredBeyondAccepted),
    droppedButDelivered: sum((s) => s.droppedButDelivered),
    sensors,
  };
}

function configText(options: { dir: string; bufferDir: string; broker: Mosquitto; pki: Pki; cert: { certPath: string; keyPath: string }; ptyPath?: string; rate: number; tmpfs: boolean }): string {
  const sensors = options.ptyPath
    ? [
        '  sim:',
        ...SIM_SENSORS.map((id) => `    - { id: ${id}, rate: ${options.rate} }`),
        '  serial:',
        `    - { id: port-1, path: ${options.ptyPath}, format: jsonl, sensorId: ${SERIAL_SENSOR}, fields: { temperature: { unit: "°C" } } }`,
      ]
    : ['  sim: []'];
  return [
    'gateway:',
    `  id: ${GATEWAY}`,
    `  dataDir: ${join(options.dir, 'state')}`,
    'log:',
    '  level: warn',
    'buffer:',
    `  path: ${join(options.bufferDir, 'buffer.db')}`,
    '  fullPolicy: drop-oldest',
    // Without a mountable filesystem the cap stands in for the small disk.
    ...(options.tmpfs ? [] : [`  maxFileBytes: ${FALLBACK_MAX_FILE_BYTES}`]),
    'cloud:',
    `  url: ${options.broker.url}`,
    `  caFile: ${options.pki.ca.certPath}`,
    `  certFile: ${options.cert.certPath}`,
    `  keyFile: ${options.cert.keyPath}`,
    '  backoff: { initialMs: 100, maxMs: 1000, stableMs: 5000 }',
    '  statusIntervalMs: 250',
    'ui:',
    '  enabled: false',
    'sensors:',
    ...sensors,
    '',
  ].join('\n');
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = random(seed);
  const between = (min: number, max: number) => min + rand() * (max - min);
  const say = options.say ?? (() => undefined);
  const rate = options.rate ?? 200;
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-chaos-'));
  const bufferDir = join(dir, 'small-fs');
  const tmpfs = options.noMount ? (mkdirSync(bufferDir, { recursive: true }), false) : mountSmallFilesystem(bufferDir);
  const logFile = join(dir, 'gateway.log');
  const pki = await createPki();
  // Persistence and no queue limit: what the broker acknowledged reaches the subscriber, so any gap is the gateway's.
  const broker = await startMosquitto({ pki, persistence: true, extraConfig: ['max_queued_messages 0'] });
  const cloud = await cloudSubscriber(broker, pki, { persistentSession: true });
  cloud.client.on('connect', () => void cloud.client.subscribeAsync(`${PREFIX}/#`, { qos: 1 }).catch(() => undefined));
  const pty = new SocatPair();
  await pty.start();
  const feeder = new SerialFeeder(pty.b);
  const cert = await pki.issueClientCert({ cn: GATEWAY });
  const running = join(dir, 'running.yaml');
  const drain = join(dir, 'drain.yaml');
  await writeFile(running, configText({ dir, bufferDir, broker, pki, cert, ptyPath: pty.a, rate, tmpfs }));
  await writeFile(drain, configText({ dir, bufferDir, broker, pki, cert, rate, tmpfs }));
  const actions: Record<ChaosAction, number> = { 'kill-gateway': 0, 'restart-broker': 0, 'stall-broker': 0, 'fill-disk': 0 };
  const filler = join(bufferDir, 'filler');
  let gateway = startGateway(running, logFile);
  let killsSurvived = 0;
  try {
    feeder.start(50);
    await waitFor(() => deliveredReadings(cloud.messages).length > 0 || undefined, `first readings (log in ${logFile})`, 30_000);
    const deadline = Date.now() + options.seconds * 1000;
    while (Date.now() < deadline) {
      await sleep(between(300, 1500));
      // Without a small filesystem there is nothing to fill: the byte cap stands in for it.
      const choices: ChaosAction[] = tmpfs ? ['kill-gateway', 'restart-broker', 'stall-broker', 'fill-disk'] : ['kill-gateway', 'restart-broker', 'stall-broker'];
      const action = choices[Math.floor(rand() * choices.length)] as ChaosAction;
      actions[action]++;
      say(`chaos: ${action}`);
      if (action === 'kill-gateway') {
        await signalGateway(gateway, 'SIGKILL');
        await sleep(between(50, 800));
        gateway = startGateway(running, logFile);
        killsSurvived++;
      } else if (action === 'restart-broker') {
        await broker.stop();
        await sleep(between(200, 2000));
        await broker.start();
      } else if (action === 'stall-broker') {
        broker.signal('SIGSTOP');
        await sleep(between(300, 3000));
        broker.signal('SIGCONT');
      } else {
        fillDisk(filler, bufferDir);
        await sleep(between(500, 3000));
        rmSync(filler, { force: true });
      }
    }
    feeder.stop();
    // Drain: no sensors, the broker up, room on disk; then a clean stop.
    await signalGateway(gateway, 'SIGTERM');
    gateway = startGateway(drain, logFile);
    const drainFrom = cloud.messages.length;
    await waitFor(
      () => cloud.messages.slice(drainFrom).filter((m) => m.topic === `${PREFIX}/${GATEWAY}/status` && (JSON.parse(m.text) as { bufferDepth?: number }).bufferDepth === 0).length >= 4 || undefined,
      `the drained buffer (log in ${logFile})`,
      120_000,
    );
    await sleep(1_000);
    await signalGateway(gateway, 'SIGTERM');
    await sleep(500);
    const { accepted, pending } = readBufferFile(join(bufferDir, 'buffer.db'));
    const drops = [...dropRecords(cloud.messages), ...pending];
    const result = reconcile(accepted, deliveredReadings(cloud.messages), drops);
    return { seconds: options.seconds, seed, smallFilesystem: tmpfs ? 'tmpfs' : 'maxFileBytes', ...result, pendingDropRecords: pending.length, actions, killsSurvived };
  } finally {
    feeder.stop();
    await signalGateway(gateway, 'SIGKILL');
    broker.signal('SIGCONT');
    await cloud.close().catch(() => undefined);
    await broker.cleanup();
    await pty.unplug();
    rmSync(pty.dir, { recursive: true, force: true });
    await pki.cleanup();
    if (tmpfs) spawnSync('umount', [bufferDir]);
    if (process.env.CHAOS_KEEP === undefined) await rm(dir, { recursive: true, force: true });
    else say(`chaos: kept ${dir}`);
  }
}

/** Takes (nearly) all the free space of the small filesystem. */
function fillDisk(filler: string, dir: string): void {
  const { bavail, bsize } = statfsSync(dir);
  const free = bavail * bsize;
  if (free > 64 * 1024) writeFileSync(filler, Buffer.alloc(free - 32 * 1024));
}
