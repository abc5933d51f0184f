/**
 * Drains a pre-filled buffer file through the uplink in a fresh process, so its peak RSS is the
 * drain's own. argv: <job JSON>. Prints one JSON line: { seconds, readings, peakRssMb }.
 */
import { readFileSync } from 'node:fs';
import { until, rssSampler } from './measure.js';
import { benchGateway, type BenchTarget } from './rig.js';

const job = JSON.parse(process.argv[2] ?? '{}') as { file: string; url: string; caFile: string; certFile: string; keyFile: string; gatewayId: string; maxReadings: number; inFlight: number };
const target: BenchTarget = {
  url: job.url,
  credentials: { ca: readFileSync(job.caFile, 'utf8'), cert: readFileSync(job.certFile, 'utf8'), key: readFileSync(job.keyFile, 'utf8') },
};
const rss = rssSampler(25);
const { buffer, uplink } = benchGateway({ file: job.file, target, gatewayId: job.gatewayId, maxReadings: job.maxReadings, inFlight: job.inFlight });
await buffer.start(new AbortController().signal);
const readings = buffer.stats(Date.now()).depth;
const started = performance.now();
await uplink.start();
await until(() => buffer.stats(Date.now()).depth === 0, 'the backlog to drain', 240_000, 20);
const seconds = (performance.now() - started) / 1000;
await uplink.stop();
await buffer.stop();
rss.stop();
process.stdout.write(`${JSON.stringify({ seconds, readings, peakRssMb: rss.peakMb() })}\n`);
