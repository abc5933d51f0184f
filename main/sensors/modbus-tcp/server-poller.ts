import { connect, type Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { ModbusTcpServerConfig } from '../../shared/config/modbus.js';
import type { SampleSink } from '../../shared/source.js';
import type { SensorActivity } from '../activity.js';
import { ModbusMaster, type Transaction } from '../modbus/master.js';
import { parseReadPdu, type ReadRequest } from '../modbus/pdu.js';
import { SampleForwarder } from '../sample-forwarder.js';
import { Backoff } from '../../shared/backoff.js';
import { RejectLog } from '../serial/rejects.js';
import { buildReadAdu, takeFrame } from './mbap.js';
import type { ModbusTcpMetrics } from './metrics.js';

export interface ServerPollerDeps {
  config: ModbusTcpServerConfig;
  sink: SampleSink;
  activity: SensorActivity;
  metrics: ModbusTcpMetrics;
  log: Logger;
  clock: Clock;
  random?: () => number;
}

interface Pending {
  transactionId: number;
  request: ReadRequest;
  settle(outcome: Transaction): void;
}

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 30_000;
const KEEPALIVE_MS = 10_000;

/**
 * Modbus TCP client for one server: the TCP transport (MBAP framing, one request in flight,
 * transaction ids, reconnect with backoff) under the shared ModbusMaster. A response that
 * arrives after its request timed out carries a stale transaction id and is dropped.
 */
export class ServerPoller {
  private readonly master: ModbusMaster;
  private readonly rejects: RejectLog;
  private readonly backoff: Backoff;
  private socket: Socket | undefined;
  private connecting: Socket | undefined;
  private received = Buffer.alloc(0);
  private pending: Pending | undefined;
  private transactionId = 0;
  private attempts = 0;
  private stopped = true;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ServerPollerDeps) {
    const { config } = deps;
    const labels = { server: config.id };
    this.rejects = new RejectLog({ labels, counter: deps.metrics.rejects, log: deps.log, clock: deps.clock });
    // stableMs 0: a server that answered once has proved the connection, so the next loss starts over.
    this.backoff = new Backoff({ initialMs: RECONNECT_BASE_MS, maxMs: RECONNECT_CAP_MS, stableMs: 0, ...(deps.random && { random: deps.random }) });
    this.master = new ModbusMaster({
      devices: config.units.map((unit) => ({ unit: unit.unitId, sensorId: unit.sensorId, registers: unit.registers })),
      labels,
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      transact: (request) => this.transact(request),
      connected: () => this.socket !== undefined,
      countRequest: (unit, result) => deps.metrics.requests.inc({ server: config.id, unit: String(unit), result }),
      rejects: this.rejects,
      activity: deps.activity,
      forwarder: new SampleForwarder({ sink: deps.sink, log: deps.log, clock: deps.clock, labels }),
      log: deps.log,
      clock: deps.clock,
    });
  }

  start(): void {
    for (const unit of this.deps.config.units) this.deps.activity.register(unit.sensorId, { server: this.deps.config.id });
    this.deps.metrics.connected.set({ server: this.deps.config.id }, 0);
    this.stopped = false;
    this.connect();
    this.master.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.pending?.settle({ kind: 'lost' });
    await this.master.stop();
    const open = [this.socket, this.connecting].filter((socket): socket is Socket => socket !== undefined && !socket.destroyed);
    await Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve).destroy())));
  }

  private get where(): { server: string; host: string; port: number } {
    return { server: this.deps.config.id, host: this.deps.config.host, port: this.deps.config.port };
  }

  private connect(): void {
    const { config } = this.deps;
    if (this.attempts++ > 0) this.deps.metrics.reconnects.inc({ server: config.id });
    const socket = connect({ host: config.host, port: config.port });
    this.connecting = socket;
    let failure: Error | undefined;
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${config.connectTimeoutMs} ms`)), config.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.on('error', (error) => (failure = error));
    socket.once('connect', () => {
      clearTimeout(timer);
      this.connecting = undefined;
      socket.setKeepAlive(true, KEEPALIVE_MS);
      this.socket = socket;
      this.received = Buffer.alloc(0);
      this.deps.metrics.connected.set({ server: config.id }, 1);
      this.deps.log.info(this.where, 'Modbus TCP server connected');
      this.master.wake();
    });
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.connecting === socket) this.connecting = undefined;
      const wasConnected = this.socket === socket;
      if (wasConnected) {
        this.socket = undefined;
        this.deps.metrics.connected.set({ server: config.id }, 0);
        this.pending?.settle({ kind: 'lost' });
        this.master.markOffline();
      }
      if (this.stopped) return;
      const delayMs = this.backoff.nextDelay(this.deps.clock.now());
      this.deps.log.warn({ ...this.where, err: failure?.message, retryInMs: delayMs }, wasConnected ? 'Modbus TCP connection lost' : 'Modbus TCP connection failed');
      this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
    });
  }

  private transact(request: ReadRequest): Promise<Transaction> {
    const socket = this.socket;
    if (!socket) return Promise.resolve({ kind: 'lost' });
    this.transactionId = (this.transactionId + 1) & 0xffff;
    const transactionId = this.transactionId;
    return new Promise<Transaction>((resolve) => {
      const timer = setTimeout(() => this.pending?.settle({ kind: 'timeout' }), this.deps.config.timeoutMs);
      this.pending = {
        transactionId,
        request,
        settle: (outcome) => {
          clearTimeout(timer);
          this.pending = undefined;
          resolve(outcome);
        },
      };
      socket.write(buildReadAdu(transactionId, request));
    });
  }

  private onData(socket: Socket, chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    for (;;) {
      const frame = takeFrame(this.received);
      if (frame.kind === 'incomplete') return;
      if (frame.kind === 'bad-header') {
        // Out of step with the server: what follows cannot be framed either; start over on a new connection.
        this.rejects.reject('bad-frame', `MBAP header: ${frame.detail}`, frame.header);
        this.pending?.settle({ kind: 'lost' });
        socket.destroy();
        return;
      }
      this.received = this.received.subarray(frame.length);
      const pending = this.pending;
      if (pending?.transactionId !== frame.transactionId) {
        this.deps.log.debug({ ...this.where, transactionId: frame.transactionId }, 'Modbus TCP response to a request no longer waited for; dropped');
        continue;
      }
      this.backoff.connected(this.deps.clock.now());
      pending.settle(this.answer(pending.request, frame.unit, frame.pdu));
    }
  }

  private answer(request: ReadRequest, unit: number, pdu: Buffer): Transaction {
    if (unit !== request.unit) return { kind: 'bad-frame', detail: `expected unit ${request.unit}, got ${unit}`, frame: pdu };
    const result = parseReadPdu(pdu, request);
    if (result.kind === 'incomplete' || (result.kind !== 'bad-frame' && result.length !== pdu.length)) {
      return { kind: 'bad-frame', detail: `PDU of ${pdu.length} bytes does not match its header`, frame: pdu };
    }
    if (result.kind === 'bad-frame') return { kind: 'bad-frame', detail: result.detail, frame: pdu };
    return result.kind === 'exception' ? { kind: 'exception', code: result.code } : { kind: 'data', data: result.data };
  }
}
