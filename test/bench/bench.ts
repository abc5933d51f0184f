/**
 * `npm run bench`: store-and-forward throughput and latency against a real Mosquitto with mutual
 * TLS (started here, with the README's recommended config). Progress goes to stdout; the last
 * line is one JSON object with every figure. Not a test: numbers depend on the machine and load.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect, type MqttClient } from 'mqtt';
import { createPki, type IssuedCert, type Pki } from '../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { diskWriteBytes, median, percentile, round, until } from './measure.js';
import { benchGateway, sampleValues, type BenchTarget } from './rig.js';
import { tlsHandshakes } from './tls-handshake.js';

const GATEWAY = 'bench-gw';
const IN_FLIGHT = 64;
const WARM_UP = 5_000;
const RAW_MESSAGES = 40_000;
const SINGLE_READINGS = 40_000;
/** Raw and end-to-end single runs alternate this often; the medians are reported (the machine may be shared). */
const ROUNDS = 3;
const BATCHED_READINGS = 300_000;
const BATCH = 100;
const DRAIN_READINGS = 1_000_000;
const DRAIN_BATCH = 500;
const LATENCY_SECONDS = 8;
const LATENCY_RATE = 1_000;
const HANDSHAKES = 50;
const SERVICE_UNIT = fileURLToPath(new URL('../../../native-config/fieldgate.service', import.meta.url));

const log = (line: string) => process.stdout.write(`${line}\n`);

/** NODE_OPTIONS exactly as the systemd unit ships them, so the drain's memory figure is the service's. */
function serviceNodeOptions(): string {
  const match = /^Environment="?NODE_OPTIONS=([^"\n]*)"?[ \t]*$/m.exec(readFileSync(SERVICE_UNIT, 'utf8'));
  if (!match?.[1]) throw new Error(`bench: ${SERVICE_UNIT} has no Environment=NODE_OPTIONS=… line`);
  return match[1].trim();
}

const run = promisify(execFile);
/** The broker's MQTT 5 Receive Maximum: the uplink keeps at most this many QoS 1 messages in flight (plain mqtt.js does not check it). */
let brokerReceiveMaximum: number | undefined;

function mqttClient(broker: Mosquitto, pki: Pki, cert: IssuedCert, clientId: string): Promise<MqttClient> {
  const client = connect(broker.url, { ca: pki.ca.certPem, cert: cert.certPem, key: cert.keyPem, protocolVersion: 5, clientId, reconnectPeriod: 0 });
  return new Promise((resolve, reject) => {
    client.once('connect', (connack) => {
      brokerReceiveMaximum = connack.properties?.receiveMaximum;
      resolve(client);
    });
    client.once('error', reject);
  });
}

/** A plain mqtt.js QoS 1 loop with the same in-flight window and a payload the size of one reading. */
async function rawBaseline(client: MqttClient): Promise<number> {
  const payload = Buffer.from(JSON.stringify({ readings: [{ sensor: 'raw', seq: 1, ts: new Date().toISOString(), values: sampleValues(1) }] }));
  const loop = (total: number) =>
    new Promise<void>((resolve, reject) => {
      let sent = 0;
      let acked = 0;
      const next = () => {
        while (sent < total && sent - acked < IN_FLIGHT) {
          sent++;
          client.publish(`fieldgate/${GATEWAY}/readings/raw`, payload, { qos: 1 }, (error) => {
            if (error) return reject(error);
            acked++;
            if (acked === total) resolve();
            else next();
          });
        }
      };
      next();
    });
  await loop(WARM_UP);
  const started = performance.now();
  await loop(RAW_MESSAGES);
  return RAW_MESSAGES / ((performance.now() - started) / 1000);
}

/** Appends `count` readings as fast as the buffer accepts them while the uplink sends; readings/s from first append to the commit deleting the last acknowledged one. */
async function endToEnd(dir: string, target: BenchTarget, name: string, count: number, maxReadings: number): Promise<number> {
  const { buffer, uplink } = benchGateway({ file: join(dir, `${name}.db`), target, gatewayId: GATEWAY, maxReadings, inFlight: IN_FLIGHT });
  await buffer.start(new AbortController().signal);
  await uplink.start();
  await until(() => uplink.status().state === 'connected', 'the uplink to connect', 30_000);
  const sendAll = async (total: number) => {
    const chunk = 2_000;
    const sentBefore = uplink.status().readingsSent;
    for (let i = 0; i < total; i += chunk) {
      const appends = [];
      for (let j = i; j < Math.min(total, i + chunk); j++) appends.push(buffer.append({ sensorId: `s${j % 4}`, ts: Date.now(), values: sampleValues(j) }));
      await Promise.all(appends);
      uplink.wake();
    }
    await until(() => buffer.stats(Date.now()).depth === 0 && uplink.status().readingsSent >= sentBefore + total, 'all readings acknowledged', 240_000);
  };
  await sendAll(WARM_UP); // JIT warm-up, not measured (the raw loop gets one too)
  const started = performance.now();
  await sendAll(count);
  const seconds = (performance.now() - started) / 1000;
  await uplink.stop();
  await buffer.stop();
  return count / seconds;
}

/** Fills a buffer file with `count` readings (no uplink); returns bytes written to disk per reading. */
async function prefill(file: string, target: BenchTarget, count: number): Promise<number> {
  const { buffer } = benchGateway({ file, target, gatewayId: GATEWAY, maxReadings: BATCH, inFlight: IN_FLIGHT });
  await buffer.start(new AbortController().signal);
  const before = diskWriteBytes();
  const chunk = 10_000;
  for (let i = 0; i < count; i += chunk) {
    const appends = [];
    for (let j = i; j < Math.min(count, i + chunk); j++) appends.push(buffer.append({ sensorId: `s${j % 8}`, ts: 1_700_000_000_000 + j, values: sampleValues(j) }));
    await Promise.all(appends);
  }
  await buffer.stop();
  return (diskWriteBytes() - before) / count;
}

/** 1k readings/s appended in 10 ms ticks; latency from append to delivery at a subscriber. */
async function latency(dir: string, target: BenchTarget, subscriber: MqttClient): Promise<{ p50: number; p99: number; samples: number }> {
  const { buffer, uplink } = benchGateway({ file: join(dir, 'latency.db'), target, gatewayId: GATEWAY, maxReadings: BATCH, inFlight: IN_FLIGHT });
  await buffer.start(new AbortController().signal);
  await uplink.start();
  await until(() => uplink.status().state === 'connected', 'the uplink to connect', 30_000);
  const appendedAt = new Map<number, number>();
  const delays: number[] = [];
  subscriber.on('message', (topic, payload) => {
    if (!topic.endsWith('/readings/lat')) return;
    const now = performance.now();
    for (const r of (JSON.parse(payload.toString()) as { readings: Array<{ seq: number }> }).readings) {
      const at = appendedAt.get(r.seq);
      if (at !== undefined) delays.push(now - at);
    }
  });
  await subscriber.subscribeAsync(`fieldgate/${GATEWAY}/readings/lat`, { qos: 1 });
  const total = LATENCY_RATE * LATENCY_SECONDS;
  let appended = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * LATENCY_RATE));
      for (; appended < due; appended++) {
        const at = performance.now();
        void buffer.append({ sensorId: 'lat', ts: Date.now(), values: sampleValues(appended) }).then((reading) => {
          appendedAt.set(reading.seq, at);
          uplink.wake();
        });
      }
      if (appended >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  await until(() => delays.length >= total, 'every latency sample', 60_000);
  await uplink.stop();
  await buffer.stop();
  const sorted = delays.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length };
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-bench-'));
  const pki = await createPki();
  let broker: Mosquitto | undefined;
  try {
    broker = await startMosquitto({ pki });
    const gatewayCert = await pki.issueClientCert({ cn: GATEWAY });
    const readerCert = await pki.issueClientCert({ cn: broker.readerCn });
    const target: BenchTarget = { url: broker.url, credentials: { ca: pki.ca.certPem, cert: gatewayCert.certPem, key: gatewayCert.keyPem } };
    log(`bench: mosquitto with mutual TLS at ${broker.url}; in-flight window ${IN_FLIGHT}; buffer synchronous=FULL in ${dir}`);

    const rawRuns: number[] = [];
    const singleRuns: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const rawClient = await mqttClient(broker, pki, gatewayCert, `${GATEWAY}-raw`);
      rawRuns.push(await rawBaseline(rawClient));
      await rawClient.endAsync();
      singleRuns.push(await endToEnd(dir, target, `single-${i}`, SINGLE_READINGS, 1));
      log(`round ${i + 1}/${ROUNDS}: raw mqtt.js QoS1 ${round(rawRuns[i] as number)} msgs/s; end-to-end, 1 reading/message ${round(singleRuns[i] as number)} msgs/s`);
    }
    const raw = median(rawRuns);
    const single = median(singleRuns);
    log(`medians: raw ${round(raw)} msgs/s, end-to-end ${round(single)} msgs/s (${round(single / raw, 2)}x raw; target >= 0.6x)`);

    const batched = await endToEnd(dir, target, 'batched', BATCHED_READINGS, BATCH);
    log(`end-to-end, ${BATCH} readings/message: ${round(batched)} readings/s (target >= 100000)`);

    const drainFile = join(dir, 'drain.db');
    const prefillStarted = performance.now();
    const bytesPerReading = await prefill(drainFile, target, DRAIN_READINGS);
    log(`prefilled ${DRAIN_READINGS} readings in ${round((performance.now() - prefillStarted) / 1000)} s; ${round(bytesPerReading)} bytes written to disk per reading`);

    const worker = fileURLToPath(new URL('./drain-worker.js', import.meta.url));
    /** Drains a copy of the prefilled file in a child process started with this NODE_OPTIONS (none: node's defaults). */
    const drainIn = async (nodeOptions: string | undefined) => {
      const file = join(dir, 'drain-copy.db');
      await copyFile(drainFile, file);
      const job = { file, url: broker?.url, caFile: pki.ca.certPath, certFile: gatewayCert.certPath, keyFile: gatewayCert.keyPath, gatewayId: GATEWAY, maxReadings: DRAIN_BATCH, inFlight: IN_FLIGHT };
      const env = { ...process.env };
      delete env.NODE_OPTIONS;
      if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
      const { stdout } = await run(process.execPath, [worker, JSON.stringify(job)], { env, maxBuffer: 1024 * 1024, timeout: 200_000 });
      await rm(file, { force: true });
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { seconds: number; readings: number; peakRssMb: number };
    };
    const nodeOptions = serviceNodeOptions();
    const drain = await drainIn(nodeOptions);
    log(`drained ${drain.readings} readings in ${round(drain.seconds, 2)} s (target <= 30 s), peak RSS ${round(drain.peakRssMb)} MB with NODE_OPTIONS="${nodeOptions}" from the systemd unit (target <= 150 MB)`);
    const drainDefaultHeap = await drainIn(undefined);
    log(`same drain with node's default heap sizing: ${round(drainDefaultHeap.seconds, 2)} s, peak RSS ${round(drainDefaultHeap.peakRssMb)} MB`);
    await rm(drainFile, { force: true });

    const subscriber = await mqttClient(broker, pki, readerCert, 'bench-reader');
    const lat = await latency(dir, target, subscriber);
    await subscriber.endAsync();
    log(`latency append -> subscriber at ${LATENCY_RATE} readings/s: p50 ${round(lat.p50, 2)} ms, p99 ${round(lat.p99, 2)} ms over ${lat.samples} readings (target p99 <= 50 ms)`);

    const fullTls = await tlsHandshakes({ url: broker.url, credentials: target.credentials, mode: 'full', count: HANDSHAKES });
    const resumedTls = await tlsHandshakes({ url: broker.url, credentials: target.credentials, mode: 'resumed', count: HANDSHAKES });
    log(
      `mutual-TLS handshake, median of ${HANDSHAKES}: full ${round(fullTls.ms, 2)} ms (client CPU ${round(fullTls.cpuMs, 2)} ms); ` +
        `resumed ${round(resumedTls.ms, 2)} ms (client CPU ${round(resumedTls.cpuMs, 2)} ms), ${resumedTls.resumed}/${HANDSHAKES} resumed by the broker`,
    );

    const result = {
      raw_qos1_msgs_per_s: round(raw),
      e2e_single_msgs_per_s: round(single),
      e2e_batched_readings_per_s: round(batched),
      drain_1m_seconds: round(drain.seconds, 2),
      drain_peak_rss_mb: round(drain.peakRssMb),
      drain_node_options: nodeOptions,
      drain_default_heap_seconds: round(drainDefaultHeap.seconds, 2),
      drain_default_heap_peak_rss_mb: round(drainDefaultHeap.peakRssMb),
      latency_p50_ms: round(lat.p50, 2),
      latency_p99_ms: round(lat.p99, 2),
      disk_bytes_per_reading: round(bytesPerReading),
      tls_full_handshake_ms: round(fullTls.ms, 2),
      tls_resumed_handshake_ms: round(resumedTls.ms, 2),
      tls_full_handshake_cpu_ms: round(fullTls.cpuMs, 2),
      tls_resumed_handshake_cpu_ms: round(resumedTls.cpuMs, 2),
      tls_resumed_of_attempts: `${resumedTls.resumed}/${HANDSHAKES}`,
      e2e_single_vs_raw: round(single / raw, 3),
      raw_qos1_runs: rawRuns.map((value) => round(value)),
      e2e_single_runs: singleRuns.map((value) => round(value)),
      e2e_batched_vs_raw: round(batched / raw, 3),
      batch_readings_per_message: BATCH,
      drain_readings_per_message: DRAIN_BATCH,
      in_flight_window: IN_FLIGHT,
      broker_receive_maximum: brokerReceiveMaximum ?? null,
      total_seconds: round((performance.now() - benchStarted) / 1000),
    };
    log(JSON.stringify(result));
  } finally {
    await broker?.cleanup();
    await pki.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
