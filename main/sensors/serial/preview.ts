import { randomUUID } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import { serialPortSchema, type LinePortConfig, type SerialPortConfig } from '../../shared/config/serial.js';
import { UserError } from '../../shared/errors.js';
import type { Values } from '../../shared/reading.js';
import { describeMatch, matchingPorts, type DiscoveredPort, type PortDiscovery } from './discovery.js';
import { LineFramer } from './line-framer.js';
import { LineInterpreter } from './line-interpreter.js';
import { closeQuietly, systemPortOpener, type PortHandle, type PortOpener } from './port-link.js';
import { RateLimiter } from './rate-limit.js';
import type { RejectReason } from './rejects.js';

/** A preview never runs longer than this; the technician starts another one if needed. */
export const PREVIEW_MAX_MS = 60_000;
/** Previews open at once, over all ports. */
export const MAX_PREVIEWS = 4;
/** Characters of each raw line shown; a 4 KiB line is not worth streaming to a touchscreen. */
const RAW_SHOWN = 512;

export interface SerialPreviewRequest {
  /** A `sensors.serial` entry as in the config file (`id` may be left out); jsonl, csv or kv. */
  port: Record<string, unknown>;
  /** How long to listen; at most (and by default) {@link PREVIEW_MAX_MS}. */
  durationMs?: number;
  /** The port is read by a configured sensor: pause that sensor for the preview, resume it after. */
  pauseSensor?: boolean;
}

export type PreviewResult =
  | { outcome: 'parsed'; sensorId: string; values: Values }
  | { outcome: 'rejected'; reason: RejectReason; detail: string }
  | { outcome: 'ignored' };

export type PreviewEndReason = 'timeout' | 'stopped' | 'port-lost';

export type SerialPreviewEvent =
  | { previewId: string; kind: 'line'; at: string; raw: string; result: PreviewResult }
  /** Last event of a preview. `dropped` counts lines over the port's maxLinesPerSecond, which the gateway would drop too. */
  | { previewId: string; kind: 'end'; reason: PreviewEndReason; lines: number; dropped: number; detail?: string };

export interface PreviewStarted {
  previewId: string;
  path: string;
  endsAt: string;
  /** The configured port that was paused for this preview, resumed when it ends. */
  pausedPort?: string;
}

export type PreviewRefusal = 'invalid-settings' | 'not-a-line-format' | 'port-in-use' | 'port-busy' | 'too-many-previews' | 'no-such-port' | 'open-failed';

/** Why a preview did not start; `code` is stable, the message tells the technician what to do. */
export class PreviewRefusedError extends UserError {
  constructor(
    readonly code: PreviewRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'PreviewRefusedError';
  }
}

/** The configured serial ports, and a way to let go of one for a while (the serial source does this). */
export interface ConfiguredSerialPorts {
  configured(): readonly SerialPortConfig[];
  /** Closes the configured port's device so a preview can open it. */
  pause(portId: string): Promise<void>;
  /** Reopens it; called whenever a preview that paused it ends. */
  resume(portId: string): Promise<void>;
}

export interface SerialPreviewDeps {
  ports: ConfiguredSerialPorts;
  discovery: PortDiscovery;
  log: Logger;
  clock: Clock;
  /** The wire seam; real serial ports by default. */
  opener?: PortOpener;
}

/** A port as the setup screen lists it: discovery's identity, plus the configured port using it. */
export interface SerialPortListing extends DiscoveredPort {
  /** `id` of the configured `sensors.serial` entry reading this device, if any. */
  usedBy?: string;
}

interface Running {
  device: string;
  handle: PortHandle;
  timer: NodeJS.Timeout;
  finish(reason: PreviewEndReason, detail?: string): Promise<void>;
}

/**
 * Serial setup for technicians: lists the ports (with by-id links, vendor and product) and runs
 * previews. A preview opens a port with proposed settings and, for up to a minute, streams each
 * raw line with what the gateway's own parser makes of it. It saves nothing. A port a configured
 * sensor reads is refused unless the caller asks to pause that sensor.
 */
export class SerialSetup {
  private readonly running = new Map<string, Running>();

  constructor(private readonly deps: SerialPreviewDeps) {}

  async ports(): Promise<SerialPortListing[]> {
    const found = await this.deps.discovery.list();
    const users = await this.configuredDevices(found);
    return Promise.all(
      found.map(async (port) => {
        const usedBy = users.get(await deviceOf(port.path));
        return usedBy !== undefined ? { ...port, usedBy } : port;
      }),
    );
  }

  async start(request: SerialPreviewRequest, onEvent: (event: SerialPreviewEvent) => void): Promise<PreviewStarted> {
    const config = parseSettings(request.port);
    if (this.running.size >= MAX_PREVIEWS) {
      throw new PreviewRefusedError('too-many-previews', `${MAX_PREVIEWS} previews are running already; stop one first`);
    }
    const durationMs = Math.min(request.durationMs ?? PREVIEW_MAX_MS, PREVIEW_MAX_MS);
    if (!Number.isFinite(durationMs) || durationMs <= 0) throw new PreviewRefusedError('invalid-settings', '"durationMs": expected a positive number of milliseconds');
    const found = await this.deps.discovery.list();
    const path = resolvePath(config, found);
    const device = await deviceOf(path);
    if ([...this.running.values()].some((preview) => preview.device === device)) {
      throw new PreviewRefusedError('port-busy', `a preview of ${path} is running already; stop it or wait for it to end`);
    }
    const usedBy = (await this.configuredDevices(found)).get(device);
    if (usedBy !== undefined && request.pauseSensor !== true) {
      throw new PreviewRefusedError(
        'port-in-use',
        `${path} is read by the configured serial port "${usedBy}"; ask to pause that sensor for the preview (its readings stop until the preview ends)`,
      );
    }
    if (usedBy !== undefined) await this.deps.ports.pause(usedBy);
    const previewId = randomUUID();
    let handle: PortHandle;
    try {
      handle = await this.open(config, path);
    } catch (error) {
      if (usedBy !== undefined) await this.resume(usedBy);
      throw error;
    }
    const endsAt = this.deps.clock.now() + durationMs;
    this.listen(previewId, config, { path, device, handle, durationMs, onEvent, ...(usedBy !== undefined && { pausedPort: usedBy }) });
    this.deps.log.info({ previewId, path, format: config.format, baudRate: config.baudRate, pausedPort: usedBy }, 'serial preview started');
    return { previewId, path, endsAt: new Date(endsAt).toISOString(), ...(usedBy !== undefined && { pausedPort: usedBy }) };
  }

  /** Ends a preview early; false when it had ended already. */
  async stop(previewId: string): Promise<boolean> {
    const preview = this.running.get(previewId);
    if (!preview) return false;
    await preview.finish('stopped');
    return true;
  }

  /** Ends every preview (gateway shutdown): paused sensors are resumed. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((preview) => preview.finish('stopped')));
  }

  private listen(
    previewId: string,
    config: LinePortConfig,
    run: { path: string; device: string; handle: PortHandle; durationMs: number; onEvent: (event: SerialPreviewEvent) => void; pausedPort?: string },
  ): void {
    const framer = new LineFramer(config.maxLineBytes);
    const interpreter = new LineInterpreter(config);
    const limiter = new RateLimiter(config.maxLinesPerSecond);
    let lines = 0;
    let dropped = 0;
    let finished: Promise<void> | undefined;
    const emit = (event: SerialPreviewEvent): void => {
      try {
        run.onEvent(event);
      } catch (error) {
        this.deps.log.warn({ previewId, err: (error as Error).message }, 'serial preview listener failed');
      }
    };
    const line = (raw: Buffer, result: PreviewResult): void => {
      lines++;
      emit({ previewId, kind: 'line', at: new Date(this.deps.clock.now()).toISOString(), raw: shown(raw), result });
    };
    const finish = (reason: PreviewEndReason, detail?: string): Promise<void> => {
      finished ??= (async () => {
        clearTimeout(timer);
        this.running.delete(previewId);
        run.handle.removeAllListeners();
        run.handle.on('error', () => {});
        await closeQuietly(run.handle);
        if (run.pausedPort !== undefined) await this.resume(run.pausedPort);
        this.deps.log.info({ previewId, path: run.path, reason, lines, dropped }, 'serial preview ended');
        emit({ previewId, kind: 'end', reason, lines, dropped, ...(detail !== undefined && { detail }) });
      })();
      return finished;
    };
    const timer = setTimeout(() => void finish('timeout'), run.durationMs);
    run.handle.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        if (event.kind === 'too-long') {
          line(event.head, { outcome: 'rejected', reason: 'line-too-long', detail: `line longer than ${config.maxLineBytes} bytes; discarded up to its end` });
          continue;
        }
        if (!limiter.tryTake(this.deps.clock.now())) {
          dropped++;
          continue;
        }
        const outcome = interpreter.interpret(event.bytes);
        if (outcome.kind === 'parsed') line(event.bytes, { outcome: 'parsed', sensorId: outcome.sensorId, values: outcome.values });
        else if (outcome.kind === 'ignored') line(event.bytes, { outcome: 'ignored' });
        else line(event.bytes, { outcome: 'rejected', reason: outcome.reason, detail: outcome.detail });
      }
    });
    run.handle.on('close', (error?: Error) => void finish('port-lost', error?.message ?? `${run.path} was closed`));
    run.handle.on('error', (error: Error) => void finish('port-lost', error.message));
    this.running.set(previewId, { device: run.device, handle: run.handle, timer, finish });
  }

  private async open(config: LinePortConfig, path: string): Promise<PortHandle> {
    const opener = this.deps.opener ?? systemPortOpener;
    const handle = opener({ path, baudRate: config.baudRate, dataBits: config.dataBits, parity: config.parity, stopBits: config.stopBits });
    handle.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => handle.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      const message = (error as Error).message;
      if (/lock|busy/i.test(message)) {
        throw new PreviewRefusedError('port-busy', `${path} is open in another program (${message}); close it and try again`);
      }
      throw new PreviewRefusedError('open-failed', `cannot open ${path}: ${message}`);
    }
    handle.removeAllListeners();
    return handle;
  }

  private async resume(portId: string): Promise<void> {
    try {
      await this.deps.ports.resume(portId);
    } catch (error) {
      this.deps.log.error({ port: portId, err: (error as Error).message }, 'could not resume the serial port paused for a preview');
    }
  }

  /** Device node → id of the configured port reading it. Ports found by USB match are resolved through discovery. */
  private async configuredDevices(found: readonly DiscoveredPort[]): Promise<Map<string, string>> {
    const devices = new Map<string, string>();
    for (const port of this.deps.ports.configured()) {
      const paths = port.path !== undefined ? [port.path] : matchingPorts(found, port.match ?? {}).map((p) => p.path);
      for (const path of paths) devices.set(await deviceOf(path), port.id);
    }
    return devices;
  }
}

function parseSettings(port: Record<string, unknown>): LinePortConfig {
  const parsed = serialPortSchema.safeParse({ id: 'preview', ...port }, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `"${issue.path.map(String).join('.') || '(settings)'}": ${issue.message}`);
    throw new PreviewRefusedError('invalid-settings', problems.join('; '));
  }
  if (parsed.data.format === 'modbus-rtu') {
    throw new PreviewRefusedError('not-a-line-format', 'the preview shows lines (jsonl, csv, kv); modbus-rtu is polled, not previewed');
  }
  return parsed.data;
}

function resolvePath(config: LinePortConfig, found: readonly DiscoveredPort[]): string {
  if (config.path !== undefined) return config.path;
  const match = config.match ?? {};
  const matches = matchingPorts(found, match);
  if (matches.length === 0) throw new PreviewRefusedError('no-such-port', `no serial port matches ${describeMatch(match)}`);
  if (matches.length > 1) {
    throw new PreviewRefusedError('no-such-port', `${matches.length} serial ports match ${describeMatch(match)}: add serialNumber to tell them apart`);
  }
  const port = matches[0] as DiscoveredPort;
  return port.byId ?? port.path;
}

/** The device node behind a path (by-id links resolve to /dev/ttyUSB0); the path itself when it does not exist. */
async function deviceOf(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

function shown(raw: Buffer): string {
  const text = new TextDecoder('utf-8').decode(raw);
  return text.length > RAW_SHOWN ? `${text.slice(0, RAW_SHOWN)}…` : text;
}
