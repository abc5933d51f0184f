import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { BleConfig } from '../../shared/config/ble.js';
import type { SampleSink, SensorStatus, Source } from '../../shared/source.js';
import { SensorActivity } from '../activity.js';
import { AllowlistStore } from './allowlist.js';
import type { Advertisement } from './bluez.js';
import type { DbusConnector } from './bus.js';
import { connectSystemBus } from './dbus-next-bus.js';
import { bytesToHex, macToBytes } from './decoders/bytes.js';
import { BTHOME_UUID, RUUVI_COMPANY_ID, decodePayloads, hasKnownPayload } from './decoders/index.js';
import { DecodeError, type DecodedAdvertisement } from './decoders/types.js';
import { FreshnessGate } from './freshness.js';
import { BlePairing } from './pairing.js';
import { BleScanner, type ScannerStatus } from './scanner.js';

const HOUSEKEEPING_MS = 2_000;
const WARN_EVERY_MS = 60_000;

export interface BleSourceDeps {
  config: BleConfig;
  /** Allowlist, its key and replay counters: `config.stateDir` or `<gateway.dataDir>/ble`. */
  stateDir: string;
  sink: SampleSink;
  log: Logger;
  clock: Clock;
  metrics?: Registry;
  /** Defaults to the system bus. */
  connect?: DbusConnector;
}

type Outcome = 'accepted' | 'repeat' | 'stale' | 'replay' | 'downgrade' | 'mic-failure' | 'undecodable' | 'format-mismatch';

/**
 * BLE sensors: allowlisted BTHome v2 (plain or encrypted) and Ruuvi advertisers heard through
 * BlueZ. Each fresh advertisement becomes one sample; repeats, replays and downgrades are
 * dropped and counted in `fieldgate_ble_advertisements_total{outcome}`.
 */
export class BleSource implements Source {
  readonly name = 'ble';
  readonly pairing: BlePairing;
  private readonly store: AllowlistStore;
  private readonly scanner: BleScanner;
  private readonly gate = new FreshnessGate();
  private readonly activity: SensorActivity;
  private readonly outcomes: Counter<'outcome'>;
  private readonly lastWarned = new Map<string, number>();
  private housekeeping: NodeJS.Timeout | undefined;
  private savedCounters = '';

  constructor(private readonly deps: BleSourceDeps) {
    const registry = deps.metrics ?? new Registry();
    this.store = new AllowlistStore({ dir: deps.stateDir });
    this.activity = new SensorActivity({ source: this.name, clock: deps.clock });
    this.pairing = new BlePairing({
      store: this.store,
      clock: deps.clock,
      log: deps.log,
      maxSessionMs: deps.config.pairingWindowSeconds * 1000,
      onChange: (mac) => this.deviceChanged(mac),
    });
    this.outcomes = new Counter({
      name: 'fieldgate_ble_advertisements_total',
      help: 'Advertisements from allowlisted BLE devices, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const rearms = new Counter({
      name: 'fieldgate_ble_discovery_rearms_total',
      help: 'Times LE discovery was (re)started, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    const adapters = (): number => this.scanner.status().adapters.length;
    new Gauge({
      name: 'fieldgate_ble_adapters',
      help: 'Bluetooth adapters in use',
      registers: [registry],
      collect() {
        this.set(adapters());
      },
    });
    this.scanner = new BleScanner({
      connect: deps.connect ?? connectSystemBus,
      log: deps.log,
      clock: deps.clock,
      noDataTimeoutMs: deps.config.noDataTimeoutSeconds * 1000,
      onAdvertisement: (advertisement) => this.handle(advertisement),
      onRearm: (reason) => rearms.inc({ reason }),
      ...(deps.config.adapter ? { adapter: deps.config.adapter } : {}),
    });
  }

  async start(): Promise<void> {
    this.store.load();
    this.restoreCounters();
    this.registerSensors();
    await this.scanner.start();
    this.housekeeping = setInterval(() => this.tidy(), HOUSEKEEPING_MS);
    this.deps.log.info({ devices: this.store.list().length, adapter: this.deps.config.adapter ?? 'any' }, 'BLE source running');
  }

  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    this.housekeeping = undefined;
    await this.scanner.stop();
    this.pairing.stopSession();
    this.saveCounters();
  }

  sensors(): SensorStatus[] {
    return this.activity.statuses();
  }

  scanStatus(): ScannerStatus {
    return this.scanner.status();
  }

  private handle(advertisement: Advertisement): void {
    this.pairing.observe(advertisement);
    if (advertisement.kind === 'rssi' || !hasKnownPayload(advertisement)) return;
    const entry = this.store.get(advertisement.mac);
    if (!entry) return;
    let decoded: DecodedAdvertisement;
    try {
      decoded = decodePayloads(advertisement, entry.bindKey ? { mac: macToBytes(entry.mac), bindKey: entry.bindKey } : {});
    } catch (error) {
      const outcome: Outcome = error instanceof DecodeError && error.reason === 'mic-failure' ? 'mic-failure' : 'undecodable';
      this.reject(entry.id, advertisement.mac, outcome, error instanceof Error ? error.message : String(error));
      return;
    }
    if (decoded.format !== entry.format) {
      this.reject(entry.id, advertisement.mac, 'format-mismatch', `sends ${decoded.format}, allowlisted as ${entry.format}`);
      return;
    }
    const verdict = this.gate.judge({ mac: entry.mac, decoded, keyed: entry.bindKey !== undefined, frameHex: frameHex(advertisement), receivedAt: this.deps.clock.now() });
    if (verdict === 'repeat') {
      this.outcomes.inc({ outcome: 'repeat' });
      return;
    }
    if (verdict !== 'fresh') {
      const why = verdict === 'downgrade' ? 'plaintext frame from a device with a bind key' : `counter ${decoded.counter} is not new`;
      this.reject(entry.id, advertisement.mac, verdict, why);
      return;
    }
    this.outcomes.inc({ outcome: 'accepted' });
    this.activity.seen(entry.id);
    if (Object.keys(decoded.values).length === 0) return;
    this.deps.sink.accept({ sensorId: entry.id, ts: this.deps.clock.now(), values: decoded.values }).catch((error: unknown) => {
      this.deps.log.error({ sensor: entry.id, err: error }, 'buffer refused a BLE sample');
    });
  }

  private reject(sensorId: string, mac: string, outcome: Outcome, reason: string): void {
    this.outcomes.inc({ outcome });
    const key = `${mac}/${outcome}`;
    const now = this.deps.clock.now();
    if (now - (this.lastWarned.get(key) ?? -Infinity) < WARN_EVERY_MS) return;
    this.lastWarned.set(key, now);
    this.deps.log.warn({ sensor: sensorId, mac, outcome, reason }, 'BLE advertisement rejected');
  }

  private deviceChanged(mac: string): void {
    this.gate.forget(mac);
    this.registerSensors();
  }

  private registerSensors(): void {
    for (const entry of this.store.all()) this.activity.register(entry.id);
  }

  private tidy(): void {
    try {
      if (this.store.refreshIfChanged()) {
        this.deps.log.info({ devices: this.store.list().length }, 'BLE allowlist changed on disk; reloaded');
        this.registerSensors();
      }
    } catch (error) {
      this.deps.log.error({ err: error instanceof Error ? error.message : String(error) }, 'could not reload the BLE allowlist');
    }
    const offlineBefore = this.deps.clock.now() - this.deps.config.offlineAfterSeconds * 1000;
    for (const status of this.activity.statuses()) {
      if (status.online && (status.lastSeen ?? 0) < offlineBefore) this.activity.setOnline(status.sensorId, false);
    }
    this.saveCounters();
  }

  private get countersFile(): string {
    return join(this.deps.stateDir, 'counters.json');
  }

  /** Encrypted-BTHome counters survive restarts, so a frame captured before a restart cannot be replayed after it. */
  private restoreCounters(): void {
    try {
      const saved = JSON.parse(readFileSync(this.countersFile, 'utf8')) as unknown;
      if (typeof saved !== 'object' || saved === null) return;
      const counters = Object.fromEntries(
        Object.entries(saved).filter((e): e is [string, number] => Number.isInteger(e[1]) && this.store.get(e[0])?.bindKey !== undefined),
      );
      this.gate.restoreCounters(counters);
      this.savedCounters = JSON.stringify(counters);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'ignoring unreadable BLE counters file');
      }
    }
  }

  private saveCounters(): void {
    const text = JSON.stringify(this.gate.counters());
    if (text === this.savedCounters) return;
    try {
      const temp = `${this.countersFile}.tmp-${process.pid}`;
      writeFileSync(temp, text, { mode: 0o600 });
      renameSync(temp, this.countersFile);
      this.savedCounters = text;
    } catch (error) {
      this.deps.log.error({ err: error instanceof Error ? error.message : String(error) }, 'could not save BLE replay counters');
    }
  }
}

function frameHex(advertisement: Advertisement): string {
  const payload = advertisement.serviceData.get(BTHOME_UUID) ?? advertisement.manufacturerData.get(RUUVI_COMPANY_ID);
  return payload ? bytesToHex(payload) : '';
}
