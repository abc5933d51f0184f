// `npm run soak -- --minutes N [--rate 50]`: a real gateway process under steady load (sim sensors
// publishing through a real Mosquitto with mutual TLS) for N minutes. Samples the process's RSS,
// open file descriptors and the SQLite file and WAL sizes, and prints each one's least-squares
// slope per minute (after a warm-up) as JSON.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startMosquitto } from '../helpers/mosquitto.js';
import { createPki } from '../helpers/pki.js';
import { cloudSubscriber } from '../integration/uplink/fixture.js';

const CLI = fileURLToPath(new URL('../../main/cli.js', import.meta.url));
const SAMPLE_MS = 5_000;

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, rate: { type: 'string', default: '50' }, sensors: { type: 'string', default: '4' } } });
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const sensorCount = Number(values.sensors);

interface Sample {
  minute: number;
  rssBytes: number;
  openFds: number;
  dbBytes: number;
  walBytes: number;
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function sample(pid: number, db: string, minute: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { minute, rssBytes: rssKb * 1024, openFds: readdirSync(`/proc/${pid}/fd`).length, dbBytes: sizeOf(db), walBytes: sizeOf(`${db}-wal`) };
}

const dir = await mkdtemp(join(tmpdir(), 'fieldgate-soak-'));
const pki = await createPki();
const broker = await startMosquitto({ pki });
const cloud = await cloudSubscriber(broker, pki);
let received = 0;
cloud.client.on('message', (topic, payload) => {
  if (topic.includes('/readings/')) received += (JSON.parse(payload.toString()) as { readings: unknown[] }).readings.length;
});
cloud.messages.length = 0;
const cert = await pki.issueClientCert({ cn: 'gw-soak' });
const db = join(dir, 'data', 'buffer.db');
const config = join(dir, 'soak.yaml');
await writeFile(
  config,
  [
    'gateway:',
    '  id: gw-soak',
    `  dataDir: ${join(dir, 'data')}`,
    'log:',
    '  level: warn',
    'cloud:',
    `  url: ${broker.url}`,
    `  caFile: ${pki.ca.certPath}`,
    `  certFile: ${cert.certPath}`,
    `  keyFile: ${cert.keyPath}`,
    'ui:',
    '  port: 0',
    'sensors:',
    '  sim:',
    ...Array.from({ length: sensorCount }, (_, i) => `    - { id: soak-${i + 1}, rate: ${rate}, quantities: [temperature, humidity, pressure] }`),
    '',
  ].join('\n'),
);
const logFile = join(dir, 'gateway.log');
const log = openSync(logFile, 'a');
const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', log, log] });
closeSync(log);
const started = Date.now();
const samples: Sample[] = [];
try {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  while (Date.now() - started < minutes * 60_000) {
    // Cloud messages are counted, not kept, so the soak's own process does not grow.
    cloud.messages.length = 0;
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}); see ${logFile}`);
    samples.push(sample(child.pid as number, db, (Date.now() - started) / 60_000));
    process.stderr.write(`soak: ${JSON.stringify(samples.at(-1))}\n`);
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await cloud.close();
  await broker.cleanup();
  await pki.cleanup();
}
// V8's heap and SQLite's page cache settle during the first minute; slopes are over the rest.
const warmUp = Math.min(1, minutes / 5);
const steady = samples.filter((s) => s.minute >= warmUp);
const series = (pick: (s: Sample) => number) => ({
  first: pick(steady[0] as Sample),
  last: pick(steady.at(-1) as Sample),
  max: Math.max(...steady.map(pick)),
  slopePerMinute: Number(slope(steady.map((s) => ({ x: s.minute, y: pick(s) }))).toFixed(2)),
});
const report = {
  minutes,
  readingsPerSecond: rate * sensorCount,
  readingsDelivered: received,
  samples: steady.length,
  warmUpMinutes: warmUp,
  rssBytes: series((s) => s.rssBytes),
  openFds: series((s) => s.openFds),
  sqliteFileBytes: series((s) => s.dbBytes),
  sqliteWalBytes: series((s) => s.walBytes),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
await rm(dir, { recursive: true, force: true });
