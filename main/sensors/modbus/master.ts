import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { ModbusRegisterConfig } from '../../shared/config/modbus.js';
import type { Values } from '../../shared/reading.js';
import type { SensorActivity } from '../activity.js';
import type { SampleForwarder } from '../sample-forwarder.js';
import type { RejectLog } from '../serial/rejects.js';
import { exceptionName, type ReadRequest } from './pdu.js';
import { decodeRegister, planBlocks, type RegisterBlock } from './registers.js';

/** One polled device: an RTU slave or a TCP unit, read as one sensor. */
export interface ModbusDevice {
  unit: number;
  sensorId: string;
  registers: ModbusRegisterConfig[];
}

/** What one request/response transaction came to, as the transport (RTU or TCP) saw it. */
export type Transaction =
  | { kind: 'data'; data: number[] }
  | { kind: 'exception'; code: number }
  | { kind: 'bad-crc'; frame: Buffer }
  | { kind: 'bad-frame'; detail: string; frame: Buffer }
  | { kind: 'timeout' }
  /** The port or connection went away (or the master is stopping); not the device's fault. */
  | { kind: 'lost' };

/** The `result` label of the requests counter: `ok` or why not. */
export type RequestResult = 'ok' | Exclude<Transaction['kind'], 'data' | 'lost'>;

export interface ModbusMasterDeps {
  devices: ModbusDevice[];
  /** Where, in logs: `{ port }` or `{ server }`. */
  labels: Record<string, string>;
  intervalMs: number;
  timeoutMs: number;
  transact(request: ReadRequest): Promise<Transaction>;
  /** False while the port or connection is down: nothing is polled. */
  connected(): boolean;
  countRequest(unit: number, result: RequestResult): void;
  rejects: RejectLog;
  activity: SensorActivity;
  forwarder: SampleForwarder;
  log: Logger;
  clock: Clock;
}

interface DevicePlan {
  device: ModbusDevice;
  blocks: RegisterBlock[];
  failedPolls: number;
}

/** A device is marked offline after this many polls in a row that gave no reading. */
export const OFFLINE_AFTER_FAILED_POLLS = 3;

/**
 * The transport-independent half of a Modbus master: every `intervalMs` reads each device's
 * blocks one request at a time and forwards one sample per device, only when every request of
 * the device's cycle answered (a partial cycle is counted as `partial-poll` and not published).
 * Exceptions, timeouts and bad frames are counted per reason and per device; none stops polling.
 */
export class ModbusMaster {
  private readonly plans: DevicePlan[];
  private stopped = true;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: ModbusMasterDeps) {
    this.plans = deps.devices.map((device) => ({ device, blocks: planBlocks(device.registers), failedPolls: 0 }));
  }

  start(): void {
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    this.markOffline();
  }

  /** Polls now instead of at the end of the current wait (the port or connection just came up). */
  wake(): void {
    this.wakeUp?.();
  }

  markOffline(): void {
    for (const plan of this.plans) this.deps.activity.setOnline(plan.device.sensorId, false);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      if (this.deps.connected()) {
        try {
          await this.pollAll();
        } catch (error) {
          this.deps.rejects.reject('internal', (error as Error).message);
        }
      }
      await this.sleep(this.deps.intervalMs - (performance.now() - started));
    }
  }

  private async pollAll(): Promise<void> {
    for (const plan of this.plans) {
      if (this.stopped || !this.deps.connected()) return;
      const values: Values = {};
      let failed = 0;
      for (const block of plan.blocks) {
        const data = await this.read(plan.device, block);
        // Cut off by a lost link or a stop: neither a reading nor the device's failure.
        if (data === 'lost' || this.stopped) return;
        if (data === undefined) {
          failed++;
          continue;
        }
        for (const register of block.registers) {
          const value = decodeRegister(register, block, data);
          if (value === undefined) this.deps.rejects.reject('bad-value', `unit ${plan.device.unit} ${register.table} ${register.address} (${register.quantity}) is not a finite number`);
          else values[register.quantity] = { value, unit: register.unit };
        }
      }
      if (failed > 0 && failed < plan.blocks.length) {
        this.deps.rejects.reject('partial-poll', `unit ${plan.device.unit}: ${failed} of ${plan.blocks.length} requests failed; the values of the others are not published`);
      }
      this.finishDevice(plan, failed === 0 ? values : {});
    }
  }

  private finishDevice(plan: DevicePlan, values: Values): void {
    const sensorId = plan.device.sensorId;
    const where = { ...this.deps.labels, unit: plan.device.unit, sensor: sensorId };
    if (Object.keys(values).length === 0) {
      plan.failedPolls++;
      if (plan.failedPolls === OFFLINE_AFTER_FAILED_POLLS) {
        this.deps.activity.setOnline(sensorId, false);
        this.deps.log.warn({ ...where, polls: plan.failedPolls }, 'Modbus device gave no complete reading; marked offline');
      }
      return;
    }
    if (plan.failedPolls >= OFFLINE_AFTER_FAILED_POLLS) this.deps.log.info(where, 'Modbus device answering again');
    plan.failedPolls = 0;
    this.deps.activity.seen(sensorId);
    this.deps.forwarder.forward({ sensorId, ts: this.deps.clock.now(), values });
  }

  /** One transaction: the data read, undefined after counting why not, or `lost`. */
  private async read(device: ModbusDevice, block: RegisterBlock): Promise<number[] | undefined | 'lost'> {
    const outcome = await this.deps.transact({ unit: device.unit, fn: block.fn, address: block.address, count: block.count });
    const where = `unit ${device.unit} fn ${block.fn} address ${block.address} count ${block.count}`;
    switch (outcome.kind) {
      case 'data':
        this.deps.countRequest(device.unit, 'ok');
        return outcome.data;
      case 'lost':
        return 'lost';
      case 'exception':
        this.deps.rejects.reject('exception', `${where}: exception ${outcome.code} (${exceptionName(outcome.code)})`);
        break;
      case 'bad-crc':
        this.deps.rejects.reject('bad-crc', `${where}: CRC mismatch`, outcome.frame);
        break;
      case 'bad-frame':
        this.deps.rejects.reject('bad-frame', `${where}: ${outcome.detail}`, outcome.frame);
        break;
      case 'timeout':
        this.deps.rejects.reject('timeout', `${where}: no complete response within ${this.deps.timeoutMs} ms`);
        break;
    }
    this.deps.countRequest(device.unit, outcome.kind);
    return undefined;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeUp = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.timer = setTimeout(() => this.wakeUp?.(), ms);
    });
  }
}
