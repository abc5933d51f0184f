import type { LinePortConfig } from '../../shared/config/serial.js';
import { configuredSensorIds } from '../../shared/config/serial.js';
import { LinePipeline, type LineEvent } from './line-pipeline.js';
import type { PortLink } from './port-link.js';
import { SampleForwarder } from '../sample-forwarder.js';
import { linkFor, type PortWorker, type PortWorkerDeps } from './port-worker.js';
import { RejectLog } from './rejects.js';

/** Distinct sensor ids one port may introduce from its data, so a babbling device cannot grow memory without bound. */
const MAX_SENSORS_PER_PORT = 256;

/**
 * Reads a line-oriented sensor port (jsonl, csv, kv): frames lines, rate-limits them, decodes
 * UTF-8, parses and forwards samples. Anything wrong with the input is counted and sampled in the
 * log by RejectLog; nothing in the read path throws.
 */
export class LinePortReader implements PortWorker {
  private readonly link: PortLink;
  private readonly rejects: RejectLog;
  private readonly forwarder: SampleForwarder;
  private readonly sensorIds = new Set<string>();
  private readonly pipeline: LinePipeline;
  private staleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: PortWorkerDeps & { config: LinePortConfig }) {
    const { config } = deps;
    this.pipeline = new LinePipeline(config);
    this.rejects = new RejectLog({ labels: { port: config.id }, counter: deps.metrics.rejects, log: deps.log, clock: deps.clock });
    this.forwarder = new SampleForwarder({ sink: deps.sink, log: deps.log, clock: deps.clock, labels: { port: config.id } });
    this.link = linkFor(deps, {
      opened: () => this.pipeline.restart(),
      data: (chunk) => this.onData(chunk),
      lost: () => this.markOffline(),
    });
  }

  start(): void {
    for (const sensorId of configuredSensorIds(this.deps.config)) {
      this.sensorIds.add(sensorId);
      this.deps.activity.register(sensorId, { port: this.deps.config.id });
    }
    const staleAfterMs = this.deps.config.staleAfterMs;
    if (staleAfterMs !== undefined) {
      this.staleTimer = setInterval(() => this.markStale(staleAfterMs), Math.min(1000, staleAfterMs));
      this.staleTimer.unref();
    }
    this.link.start();
  }

  async stop(): Promise<void> {
    clearInterval(this.staleTimer);
    await this.link.stop();
    this.markOffline();
  }

  private onData(chunk: Buffer): void {
    try {
      const now = this.deps.clock.now();
      for (const event of this.pipeline.push(chunk, now)) {
        this.deps.metrics.lines.inc({ port: this.deps.config.id });
        this.onLine(event, now);
      }
    } catch (error) {
      this.rejects.reject('internal', (error as Error).message);
    }
  }

  private onLine(result: LineEvent, now: number): void {
    if (result.kind === 'ignored') return;
    if (result.kind === 'rejected') {
      this.rejects.reject(result.reason, result.detail, result.bytes);
      return;
    }
    if (!this.sensorIds.has(result.sensorId)) {
      if (this.sensorIds.size >= MAX_SENSORS_PER_PORT) {
        this.rejects.reject('unknown-sensor', `more than ${MAX_SENSORS_PER_PORT} sensor ids on this port; list the real ones in sensorIds`, result.bytes);
        return;
      }
      this.sensorIds.add(result.sensorId);
      this.deps.activity.register(result.sensorId, { port: this.deps.config.id });
    }
    this.deps.activity.seen(result.sensorId);
    this.forwarder.forward({ sensorId: result.sensorId, ts: now, values: result.values });
  }

  private markOffline(): void {
    for (const sensorId of this.sensorIds) this.deps.activity.setOnline(sensorId, false);
  }

  private markStale(staleAfterMs: number): void {
    const cutoff = this.deps.clock.now() - staleAfterMs;
    for (const status of this.deps.activity.statuses()) {
      if (status.online && this.sensorIds.has(status.sensorId) && (status.lastSeen ?? 0) < cutoff) {
        this.deps.activity.setOnline(status.sensorId, false);
      }
    }
  }
}
