import type { ModbusPortConfig, ModbusSlaveConfig } from '../../../shared/config/serial.js';
import type { Values } from '../../../shared/reading.js';
import type { PortLink } from '../port-link.js';
import { linkFor, SampleForwarder, type PortWorker, type PortWorkerDeps } from '../port-worker.js';
import { RejectLog } from '../rejects.js';
import { buildReadRequest, exceptionName, parseReadResponse, type ReadRequest, type ReadResponse } from './frames.js';
import { decodeRegister, planBlocks, type RegisterBlock } from './registers.js';

type Outcome = ReadResponse | { kind: 'timeout' } | { kind: 'write-failed'; detail: string };

interface Pending {
  request: ReadRequest;
  received: Buffer;
  settle(outcome: Outcome): void;
}

interface SlavePlan {
  slave: ModbusSlaveConfig;
  blocks: RegisterBlock[];
  failedPolls: number;
}

/** A slave is marked offline after this many polls in a row that yielded no value. */
const OFFLINE_AFTER_FAILED_POLLS = 3;
/** Longest RTU frame (Modbus over serial line, 2.5.1); more while waiting is noise. */
const MAX_FRAME_BYTES = 256;

/**
 * Modbus RTU master for one port: every `intervalMs` reads each slave's register blocks one
 * request at a time, checks CRCs, and forwards one sample per slave with the values read.
 * Timeouts, exception responses, bad CRCs and malformed frames are counted per reason and per
 * slave; none of them stops polling.
 */
export class ModbusPoller implements PortWorker {
  private readonly link: PortLink;
  private readonly rejects: RejectLog;
  private readonly forwarder: SampleForwarder;
  private readonly plans: SlavePlan[];
  private pending: Pending | undefined;
  private stopped = true;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: PortWorkerDeps & { config: ModbusPortConfig }) {
    const { config } = deps;
    this.plans = config.slaves.map((slave) => ({ slave, blocks: planBlocks(slave.registers), failedPolls: 0 }));
    this.rejects = new RejectLog({ port: config.id, counter: deps.metrics.rejects, log: deps.log, clock: deps.clock });
    this.forwarder = new SampleForwarder({ sink: deps.sink, log: deps.log, clock: deps.clock, port: config.id });
    this.link = linkFor(deps, {
      opened: () => this.wake?.(),
      data: (chunk) => this.onData(chunk),
      lost: () => {
        this.pending?.settle({ kind: 'write-failed', detail: 'port lost' });
        for (const plan of this.plans) this.deps.activity.setOnline(plan.slave.sensorId, false);
      },
    });
  }

  start(): void {
    for (const plan of this.plans) this.deps.activity.register(plan.slave.sensorId, { port: this.deps.config.id });
    this.stopped = false;
    this.link.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pending?.settle({ kind: 'write-failed', detail: 'stopping' });
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    await this.link.stop();
    for (const plan of this.plans) this.deps.activity.setOnline(plan.slave.sensorId, false);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      if (this.link.isOpen) {
        try {
          await this.pollAll();
        } catch (error) {
          this.rejects.reject('internal', (error as Error).message);
        }
      }
      await this.sleep(this.deps.config.intervalMs - (performance.now() - started));
    }
  }

  private async pollAll(): Promise<void> {
    for (const plan of this.plans) {
      if (this.stopped || !this.link.isOpen) return;
      const values: Values = {};
      for (const block of plan.blocks) {
        if (this.stopped) return;
        const words = await this.read(plan.slave, block);
        if (words === undefined) continue;
        for (const register of block.registers) {
          const value = decodeRegister(register, block, words);
          if (value === undefined) this.rejects.reject('bad-value', `slave ${plan.slave.address} register ${register.address} (${register.quantity}) is not a finite number`);
          else values[register.quantity] = { value, unit: register.unit };
        }
      }
      this.finishSlave(plan, values);
    }
  }

  private finishSlave(plan: SlavePlan, values: Values): void {
    const sensorId = plan.slave.sensorId;
    if (Object.keys(values).length === 0) {
      plan.failedPolls++;
      if (plan.failedPolls === OFFLINE_AFTER_FAILED_POLLS) {
        this.deps.activity.setOnline(sensorId, false);
        this.deps.log.warn({ port: this.deps.config.id, slave: plan.slave.address, sensor: sensorId, polls: plan.failedPolls }, 'Modbus slave gave no values; marked offline');
      }
      return;
    }
    if (plan.failedPolls >= OFFLINE_AFTER_FAILED_POLLS) {
      this.deps.log.info({ port: this.deps.config.id, slave: plan.slave.address, sensor: sensorId }, 'Modbus slave answering again');
    }
    plan.failedPolls = 0;
    this.deps.activity.seen(sensorId);
    // Values read before the port was lost mid-poll are kept, but the slave stays offline.
    if (!this.link.isOpen) this.deps.activity.setOnline(sensorId, false);
    this.forwarder.forward({ sensorId, ts: this.deps.clock.now(), values });
  }

  /** One request/response transaction; the words read, or undefined after counting why not. */
  private async read(slave: ModbusSlaveConfig, block: RegisterBlock): Promise<number[] | undefined> {
    const request: ReadRequest = { slave: slave.address, fn: block.fn, address: block.address, count: block.count };
    const outcome = await this.transact(request);
    const labels = { port: this.deps.config.id, slave: String(slave.address) };
    const where = `slave ${slave.address} fn ${block.fn} address ${block.address} count ${block.count}`;
    switch (outcome.kind) {
      case 'registers':
        this.deps.metrics.modbusRequests.inc({ ...labels, result: 'ok' });
        return outcome.registers;
      case 'exception':
        this.deps.metrics.modbusRequests.inc({ ...labels, result: 'exception' });
        this.rejects.reject('exception', `${where}: exception ${outcome.code} (${exceptionName(outcome.code)})`);
        return undefined;
      case 'bad-crc':
        this.deps.metrics.modbusRequests.inc({ ...labels, result: 'bad-crc' });
        this.rejects.reject('bad-crc', `${where}: CRC mismatch`, outcome.frame);
        return undefined;
      case 'bad-frame':
        this.deps.metrics.modbusRequests.inc({ ...labels, result: 'bad-frame' });
        this.rejects.reject('bad-frame', `${where}: ${outcome.detail}`, outcome.frame);
        return undefined;
      case 'timeout':
        this.deps.metrics.modbusRequests.inc({ ...labels, result: 'timeout' });
        this.rejects.reject('timeout', `${where}: no complete response within ${this.deps.config.timeoutMs} ms`);
        return undefined;
      case 'write-failed':
      case 'incomplete':
        return undefined;
    }
  }

  private async transact(request: ReadRequest): Promise<Outcome> {
    const outcome = await new Promise<Outcome>((resolve) => {
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
      this.link.write(buildReadRequest(request)).catch((error: Error) => this.pending?.settle({ kind: 'write-failed', detail: error.message }));
    });
    // Silence between frames (3.5 character times) so the next request is not read as part of this one.
    await this.sleep(this.interFrameGapMs());
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

  private sleep(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(() => this.wake?.(), ms);
    });
  }
}
