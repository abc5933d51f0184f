import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { systemClock } from '../../../main/shared/clock.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { bufferConfig, cloudSubscriber, readingsOf, waitFor } from './fixture.js';

const CLI = fileURLToPath(new URL('../../../main/cli.js', import.meta.url));
const GATEWAY = 'gw-proc';
const IN_FLIGHT = 4;
const MAX_READINGS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runGateway(configFile: string): Running {
  const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function kill(running: Running, signal: NodeJS.Signals): Promise<void> {
  running.child.kill(signal);
  await running.exited;
}

describe('a real gateway process, SIGKILLed during a broker outage', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let cloud: Awaited<ReturnType<typeof cloudSubscriber>>;
  let dir: string;
  const processes: Running[] = [];

  before(async () => {
    pki = await createPki();
    // Like a cloud broker: messages it acknowledged survive its own restart, so whatever is missing
    // at the subscriber was lost by the gateway.
    broker = await startMosquitto({ pki, persistence: true });
    cloud = await cloudSubscriber(broker, pki, { persistentSession: true });
    dir = await mkdtemp(join(tmpdir(), 'fieldgate-proc-'));
  });

  after(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await kill(p, 'SIGKILL');
    await cloud?.close();
    await broker?.cleanup();
    await pki?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function writeConfig(name: string, withSensors: boolean): Promise<string> {
    const cert = await pki.issueClientCert({ cn: GATEWAY });
    const file = join(dir, name);
    await writeFile(
      file,
      [
        'gateway:',
        `  id: ${GATEWAY}`,
        `  dataDir: ${join(dir, 'data')}`,
        'log:',
        '  level: warn',
        'cloud:',
        `  url: ${broker.url}`,
        `  caFile: ${pki.ca.certPath}`,
        `  certFile: ${cert.certPath}`,
        `  keyFile: ${cert.keyPath}`,
        `  inFlight: ${IN_FLIGHT}`,
        '  batch:',
        `    maxReadings: ${MAX_READINGS}`,
        '  backoff: { initialMs: 100, maxMs: 500, stableMs: 5000 }',
        '  statusIntervalMs: 200',
        'ui:',
        '  enabled: false',
        'sensors:',
        withSensors ? '  sim: [{ id: s1, rate: 50 }, { id: s2, rate: 30 }]' : '  sim: []',
        '',
      ].join('\n'),
    );
    return file;
  }

  it('delivers every accepted reading once the broker returns; duplicates only within the in-flight window', async () => {
    const withSensors = await writeConfig('sensors.yaml', true);
    const drainOnly = await writeConfig('drain.yaml', false);

    const first = runGateway(withSensors);
    processes.push(first);
    await waitFor(() => readingsOf(cloud.messages, 'fieldgate', GATEWAY).length >= 40 || undefined, `readings from the gateway (log: ${first.output()})`);

    const maxBefore = new Map(['s1', 's2'].map((sensor) => [sensor, Math.max(0, ...readingsOf(cloud.messages, 'fieldgate', GATEWAY).filter((r) => r.sensor === sensor).map((r) => r.seq))]));
    await broker.stop();
    await sleep(1_500);
    await kill(first, 'SIGKILL');

    const second = runGateway(withSensors);
    processes.push(second);
    await sleep(3_000);
    await kill(second, 'SIGKILL');

    await broker.start();
    await waitFor(() => cloud.client.connected || undefined, 'the cloud subscriber to reconnect');
    await cloud.client.subscribeAsync('fieldgate/#', { qos: 1 });
    const beforeDrain = cloud.messages.length;

    const third = runGateway(drainOnly);
    processes.push(third);
    await waitFor(
      () =>
        cloud.messages
          .slice(beforeDrain)
          .some((m) => m.topic === `fieldgate/${GATEWAY}/status` && (JSON.parse(m.text) as { bufferDepth?: number }).bufferDepth === 0) || undefined,
      `a status with bufferDepth 0 (log: ${third.output()})`,
      90_000,
    );
    await sleep(500);

    const readings = readingsOf(cloud.messages, 'fieldgate', GATEWAY);
    let duplicates = 0;
    for (const sensor of ['s1', 's2']) {
      const mine = readings.filter((r) => r.sensor === sensor);
      const bySeq = new Map<number, string>();
      for (const r of mine) {
        const content = JSON.stringify([r.ts, r.values]);
        const earlier = bySeq.get(r.seq);
        if (earlier !== undefined) {
          duplicates++;
          assert.equal(content, earlier, `${sensor} seq ${r.seq} arrived twice with different content: a seq was reused`);
        }
        bySeq.set(r.seq, content);
      }
      const max = Math.max(...bySeq.keys());
      const missing = Array.from({ length: max }, (_, i) => i + 1).filter((seq) => !bySeq.has(seq));
      assert.deepEqual(missing, [], `${sensor}: seqs missing at the cloud`);
      assert.ok(max > (maxBefore.get(sensor) ?? 0), `${sensor}: readings accepted during the outage arrived (max seq ${max}, ${maxBefore.get(sensor)} before the outage)`);
    }
    // Each of the three lost connections may resend at most one in-flight window.
    assert.ok(duplicates <= 3 * IN_FLIGHT * MAX_READINGS, `duplicates ${duplicates} beyond the in-flight windows`);

    await kill(third, 'SIGKILL');
    await waitFor(
      () => cloud.messages.slice(beforeDrain).some((m) => m.topic === `fieldgate/${GATEWAY}/status` && (JSON.parse(m.text) as { online: boolean }).online === false) || undefined,
      'the LWT offline status after SIGKILL',
      60_000,
    );
  });

  it('SIGTERM: stops cleanly, publishes the retained offline status, exits 0 and keeps what was not sent', async () => {
    const config = await writeConfig('sigterm.yaml', true);
    const from = cloud.messages.length;
    const gateway = runGateway(config);
    processes.push(gateway);
    await waitFor(() => readingsOf(cloud.messages.slice(from), 'fieldgate', GATEWAY).length >= 10 || undefined, `readings (log: ${gateway.output()})`);
    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0, gateway.output());
    const statuses = cloud.messages.slice(from).filter((m) => m.topic === `fieldgate/${GATEWAY}/status`).map((m) => JSON.parse(m.text) as { online: boolean; version: string });
    assert.equal(statuses.at(-1)?.online, false);
    assert.equal(typeof statuses.at(-1)?.version, 'string');
    assert.doesNotMatch(gateway.output(), /"level":"(error|fatal)"/);

    // Whatever was accepted but not acknowledged is still in the buffer file: nothing fell between.
    const buffer = new SqliteBuffer({ file: join(dir, 'data', 'buffer.db'), options: bufferConfig(), log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) });
    await buffer.start(new AbortController().signal);
    try {
      const remaining = buffer.lease({ max: 1_000_000 });
      for (const sensor of ['s1', 's2']) {
        const seqs = new Set([...readingsOf(cloud.messages, 'fieldgate', GATEWAY).filter((r) => r.sensor === sensor).map((r) => r.seq), ...remaining.filter((r) => r.sensorId === sensor).map((r) => r.seq)]);
        const max = Math.max(...seqs);
        assert.deepEqual(Array.from({ length: max }, (_, i) => i + 1).filter((seq) => !seqs.has(seq)), [], `${sensor}: seqs neither delivered nor buffered`);
      }
    } finally {
      await buffer.stop();
    }
  });
});
