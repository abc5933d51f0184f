import { randomUUID } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import type { EventPublisher, SerialBackend } from '../../api/backends.js';
import type { Logger } from '../../log/logger.js';
import { ApiError, type ApiEvent, type MethodResult, type ParsedInput } from '../../shared/api.js';
import type { Clock } from '../../shared/clock.js';
import type { Component } from '../../shared/lifecycle.js';
import { configuredSensorIds, serialPortSchema, type LinePortConfig, type SerialPortConfig } from '../../shared/config/serial.js';
import type { Values } from '../../shared/reading.js';
import { TokenBucket } from '../../shared/token-bucket.js';
import { describeMatch, matchingPorts, type DiscoveredPort, type PortDiscovery } from './discovery.js';
import { LineFramer } from './line-framer.js';
import { LineInterpreter } from './line-interpreter.js';
import { closeQuietly, systemPortOpener, type PortHandle, type PortOpener } from './port-link.js';

/** Previews open at once, over all ports. */
export const MAX_PREVIEWS = 4;
/** Characters of each raw line shown; a 4 KiB line is not worth streaming to a touchscreen. */
const RAW_SHOWN = 512;

type PreviewResult = Extract<ApiEvent, { type: 'serial-preview' }>['result'];
type EndReason = Extract<ApiEvent, { type: 'serial-preview-ended' }>['reason'];

/** The configured serial ports, and a way to let go of one for a while (the serial source does this). */
export interface ConfiguredSerialPorts {
  configured(): readonly SerialPortConfig[];
  /** Closes the configured port's device so a preview can open it. */
  pause(portId: string): Promise<void>;
  /** Reopens it; called whenever a preview that paused it ends. */
  resume(portId: string): Promise<void>;
}

export interface SerialSetupDeps {
  ports: ConfiguredSerialPorts;
  discovery: PortDiscovery;
  events: EventPublisher;
  log: Logger;
  clock: Clock;
  /** The wire seam; real serial ports by default. */
  opener?: PortOpener;
}

interface Running {
  device: string;
  finish(reason: EndReason, message?: string): Promise<void>;
}

/**
 * Serial setup for technicians: lists the ports (with by-id links, vendor and product) and runs
 * previews. A preview opens a port with proposed settings and, for up to a minute, streams each
 * raw line with what the gateway's own parser makes of it. It saves nothing. A port a configured
 * sensor reads is refused unless the caller asks to pause that sensor.
 */
export class SerialSetup implements SerialBackend, Component {
  readonly name = 'serial-setup';
  private readonly running = new Map<string, Running>();

  constructor(private readonly deps: SerialSetupDeps) {}

  async ports(): Promise<MethodResult<'serialPorts'>> {
    const found = await this.deps.discovery.list();
    const users = await this.configuredDevices(found);
    return {
      ports: await Promise.all(
        found.map(async (port) => ({
          path: port.path,
          byId: port.byId !== undefined ? [port.byId] : [],
          ...(port.vendorId !== undefined && { vendorId: port.vendorId }),
          ...(port.productId !== undefined && { productId: port.productId }),
          ...(port.manufacturer !== undefined && { manufacturer: port.manufacturer }),
          ...(port.product !== undefined && { product: port.product }),
          ...(port.serialNumber !== undefined && { serialNumber: port.serialNumber }),
          usedBy: sensorsOf(users.get(await deviceOf(port.path))),
        })),
      ),
    };
  }

  async startPreview(input: ParsedInput<'startSerialPreview'>): Promise<MethodResult<'startSerialPreview'>> {
    const config = parseSettings(input.entry);
    if (this.running.size >= MAX_PREVIEWS) throw new ApiError('conflict', `${MAX_PREVIEWS} previews are running already`, { hint: 'stop one first' });
    const found = await this.deps.discovery.list();
    const path = resolvePath(config, found);
    const device = await deviceOf(path);
    if ([...this.running.values()].some((preview) => preview.device === device)) {
      throw new ApiError('conflict', `a preview of ${path} is running already`, { field: 'entry.path', hint: 'stop it or wait for it to end' });
    }
    const user = (await this.configuredDevices(found)).get(device);
    if (user !== undefined && !input.pauseSensors) {
      throw new ApiError('conflict', `${path} is read by the configured serial port "${user.id}"`, {
        field: 'entry.path',
        hint: 'preview with pauseSensors: true; its readings stop until the preview ends',
      });
    }
    if (user !== undefined) {
      try {
        await this.deps.ports.pause(user.id);
      } catch (error) {
        this.deps.log.error({ port: user.id, err: (error as Error).message }, 'could not pause a serial port for a preview');
        await this.resume(user.id);
        throw new ApiError('unavailable', `could not pause the configured serial port "${user.id}" for the preview`, { hint: 'see the gateway log; try again' });
      }
    }
    let handle: PortHandle;
    try {
      handle = await this.open(config, path);
    } catch (error) {
      if (user !== undefined) await this.resume(user.id);
      throw error;
    }
    const previewId = randomUUID();
    const durationMs = input.durationSeconds * 1000;
    this.listen(previewId, config, { path, device, handle, durationMs, ...(user !== undefined && { pausedPort: user.id }) });
    this.deps.log.info({ previewId, path, format: config.format, baudRate: config.baudRate, pausedPort: user?.id }, 'serial preview started');
    return { previewId, deadline: new Date(this.deps.clock.now() + durationMs).toISOString() };
  }

  async stopPreview(input: ParsedInput<'stopSerialPreview'>): Promise<MethodResult<'stopSerialPreview'>> {
    const preview = this.running.get(input.previewId);
    if (!preview) throw new ApiError('not-found', `no serial preview ${input.previewId} is running`, { field: 'previewId', hint: 'it may have reached its deadline' });
    await preview.finish('stopped');
    return { ok: true };
  }

  async start(): Promise<void> {}

  /** Ends every preview (gateway shutdown): paused sensors are resumed. */
  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((preview) => preview.finish('stopped')));
  }

  private listen(previewId: string, config: LinePortConfig, run: { path: string; device: string; handle: PortHandle; durationMs: number; pausedPort?: string }): void {
    const framer = new LineFramer(config.maxLineBytes);
    const interpreter = new LineInterpreter(config);
    const limiter = new TokenBucket(config.maxLinesPerSecond);
    let lines = 0;
    let dropped = 0;
    let finished: Promise<void> | undefined;
    const line = (raw: Buffer, result: PreviewResult): void => {
      lines++;
      this.deps.events.publish({ type: 'serial-preview', previewId, raw: shown(raw), at: new Date(this.deps.clock.now()).toISOString(), result });
    };
    const finish = (reason: EndReason, message?: string): Promise<void> => {
      finished ??= (async () => {
        clearTimeout(timer);
        this.running.delete(previewId);
        run.handle.removeAllListeners();
        run.handle.on('error', () => {});
        await closeQuietly(run.handle);
        if (run.pausedPort !== undefined) await this.resume(run.pausedPort);
        this.deps.log.info({ previewId, path: run.path, reason, lines, dropped }, 'serial preview ended');
        const overRate = dropped > 0 ? `${dropped} lines over maxLinesPerSecond (${config.maxLinesPerSecond}) were dropped, as the gateway would drop them` : undefined;
        const text = [message, overRate].filter((part) => part !== undefined).join('; ');
        this.deps.events.publish({ type: 'serial-preview-ended', previewId, reason, ...(text !== '' && { message: text }) });
      })();
      return finished;
    };
    const timer = setTimeout(() => void finish('deadline'), run.durationMs);
    run.handle.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        if (event.kind === 'too-long') {
          line(event.head, { ok: false, reason: 'line-too-long', message: `line longer than ${config.maxLineBytes} bytes (maxLineBytes); discarded up to its end` });
          continue;
        }
        if (!limiter.tryTake(this.deps.clock.now())) {
          dropped++;
          continue;
        }
        const outcome = interpreter.interpret(event.bytes);
        if (outcome.kind === 'parsed') line(event.bytes, { ok: true, readings: [{ sensorId: outcome.sensorId, values: measurements(outcome.values) }] });
        else if (outcome.kind === 'ignored') line(event.bytes, { ok: false, reason: 'ignored', message: 'matches the ignore pattern; dropped without counting' });
        else line(event.bytes, { ok: false, reason: outcome.reason, message: outcome.detail });
      }
    });
    run.handle.on('close', (error?: Error) => void finish('error', `${run.path} went away: ${error?.message ?? 'closed'}`));
    run.handle.on('error', (error: Error) => void finish('error', `${run.path}: ${error.message}`));
    this.running.set(previewId, { device: run.device, finish });
  }

  private async open(config: LinePortConfig, path: string): Promise<PortHandle> {
    const opener = this.deps.opener ?? systemPortOpener;
    const handle = opener({ path, baudRate: config.baudRate, dataBits: config.dataBits, parity: config.parity, stopBits: config.stopBits });
    handle.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => handle.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      const message = (error as Error).message;
      if (/lock|busy/i.test(message)) throw new ApiError('conflict', `${path} is open in another program (${message})`, { field: 'entry.path', hint: 'close that program and try again' });
      throw new ApiError('bad-request', `cannot open ${path}: ${message}`, { field: 'entry.path', hint: 'pick a port from serialPorts' });
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

  /** Device node → the configured port reading it. Ports found by USB match are resolved through discovery. */
  private async configuredDevices(found: readonly DiscoveredPort[]): Promise<Map<string, SerialPortConfig>> {
    const devices = new Map<string, SerialPortConfig>();
    for (const port of this.deps.ports.configured()) {
      const paths = port.path !== undefined ? [port.path] : matchingPorts(found, port.match ?? {}).map((p) => p.path);
      for (const path of paths) devices.set(await deviceOf(path), port);
    }
    return devices;
  }
}

/** The sensor ids a configured port produces; its port id when they come from the data and are not listed. */
function sensorsOf(port: SerialPortConfig | undefined): string[] {
  if (port === undefined) return [];
  const ids = configuredSensorIds(port);
  return ids.length > 0 ? ids : [port.id];
}

function measurements(values: Values): Array<{ quantity: string; value: number; unit: string }> {
  return Object.entries(values).map(([quantity, measurement]) => ({ quantity, value: measurement.value, unit: measurement.unit }));
}

/** The proposed entry, checked by the config schema itself; problems name the key under `entry`. */
function parseSettings(entry: Record<string, unknown>): LinePortConfig {
  const parsed = serialPortSchema.safeParse({ id: 'preview', ...entry });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: ['entry', ...issue.path.map(String)].join('.'), message: issue.message }));
    const first = issues[0] as { path: string; message: string };
    throw new ApiError('bad-request', `"${first.path}": ${first.message}`, { field: first.path, issues });
  }
  if (parsed.data.format === 'modbus-rtu') {
    throw new ApiError('bad-request', 'the preview shows lines (jsonl, csv, kv); modbus-rtu is polled, not previewed', { field: 'entry.format' });
  }
  return parsed.data;
}

function resolvePath(config: LinePortConfig, found: readonly DiscoveredPort[]): string {
  if (config.path !== undefined) return config.path;
  const match = config.match ?? {};
  const matches = matchingPorts(found, match);
  if (matches.length === 0) throw new ApiError('not-found', `no serial port matches ${describeMatch(match)}`, { field: 'entry.match', hint: 'plug the adapter in, or pick a port from serialPorts' });
  if (matches.length > 1) {
    throw new ApiError('bad-request', `${matches.length} serial ports match ${describeMatch(match)}`, { field: 'entry.match', hint: 'add serialNumber to tell them apart' });
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
