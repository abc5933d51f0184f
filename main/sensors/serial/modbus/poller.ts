import type { ModbusPortConfig } from '../../../shared/config/serial.js';
import { ModbusMaster, type Transaction } from '../../modbus/master.js';
import type { ReadRequest } from '../../modbus/pdu.js';
import { SampleForwarder } from '../../sample-forwarder.js';
import type { PortLink } from '../port-link.js';
import { linkFor, type PortWorker, type PortWorkerDeps } from '../port-worker.js';
import { RejectLog } from '../rejects.js';
import { buildReadRequest, parseReadResponse } from './frames.js';

interface Pending {
  request: ReadRequest;
  received: Buffer;
  settle(outcome: Transaction): void;
}

/** Longest RTU frame (Modbus over serial line, 2.5.1); more while waiting is noise. */
const MAX_FRAME_BYTES = 256;

/**
 * Modbus RTU master for one port: the serial transport (one request at a time, CRC-checked
 * frames, the silent interval between them) under the shared ModbusMaster.
 */
export class ModbusPoller implements PortWorker {
  private readonly link: PortLink;
  private readonly master: ModbusMaster;
  private pending: Pending | undefined;

  constructor(private readonly deps: PortWorkerDeps & { config: ModbusPortConfig }) {
    const { config } = deps;
    const labels = { port: config.id };
    this.master = new ModbusMaster({
      devices: config.slaves.map((slave) => ({ unit: slave.address, sensorId: slave.sensorId, registers: slave.registers })),
      labels,
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      transact: (request) => this.transact(request),
      connected: () => this.link.isOpen,
      countRequest: (slave, result) => deps.metrics.modbusRequests.inc({ port: config.id, slave: String(slave), result }),
      rejects: new RejectLog({ labels, counter: deps.metrics.rejects, log: deps.log, clock: deps.clock }),
      activity: deps.activity,
      forwarder: new SampleForwarder({ sink: deps.sink, log: deps.log, clock: deps.clock, labels }),
      log: deps.log,
      clock: deps.clock,
    });
    this.link = linkFor(deps, {
      opened: () => this.master.wake(),
      data: (chunk) => this.onData(chunk),
      lost: () => {
        this.pending?.settle({ kind: 'lost' });
        this.master.markOffline();
      },
    });
  }

  start(): void {
    for (const slave of this.deps.config.slaves) this.deps.activity.register(slave.sensorId, { port: this.deps.config.id });
    this.link.start();
    this.master.start();
  }

  async stop(): Promise<void> {
    this.pending?.settle({ kind: 'lost' });
    await this.master.stop();
    await this.link.stop();
  }

  private async transact(request: ReadRequest): Promise<Transaction> {
    const outcome = await new Promise<Transaction>((resolve) => {
      const timer = setTimeout(() => this.pending?.settle({ kind: 'timeout' }), this.deps.config.timeoutMs);
      this.pending = {
        request,
        received: Buffer.alloc(0),
        settle: (result) => {
          clearTimeout(timer);
          this.pending = undefined;
          resolve(result);
        },
      };
      this.link.write(buildReadRequest(request)).catch(() => this.pending?.settle({ kind: 'lost' }));
    });
    // Silence between frames (3.5 character times) so the next request is not read as part of this one.
    await new Promise((resolve) => setTimeout(resolve, this.interFrameGapMs()));
    return outcome;
  }

  private onData(chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) return;
    try {
      pending.received = Buffer.concat([pending.received, chunk]).subarray(-MAX_FRAME_BYTES * 2);
      const response = parseReadResponse(pending.received, pending.request);
      if (response.kind !== 'incomplete') pending.settle(response);
    } catch (error) {
      pending.settle({ kind: 'bad-frame', detail: (error as Error).message, frame: chunk });
    }
  }

  private interFrameGapMs(): number {
    const bitsPerChar = 1 + this.deps.config.dataBits + (this.deps.config.parity === 'none' ? 0 : 1) + this.deps.config.stopBits;
    // The spec fixes 1.75 ms above 19200 baud.
    return this.deps.config.baudRate > 19_200 ? 1.75 : (3.5 * bitsPerChar * 1000) / this.deps.config.baudRate;
  }
}
