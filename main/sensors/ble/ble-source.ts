import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { writeFileDurablySync } from '../../files/durable.js';
import type { Logger } from '../../log/logger.js';
import type { RaisedAlert } from '../../shared/alert.js';
import type { Clock } from '../../shared/clock.js';
import type { BleConfig } from '../../shared/config/ble.js';
import type { SampleSink, SensorStatus, Source } from '../../shared/source.js';
import { SensorActivity } from '../activity.js';
import { AllowlistStore } from './allowlist.js';
import type { Advertisement } from './bluez.js';
import type { DbusConnector } from './bus.js';
import { bytesToHex, macToBytes } from './decoders/bytes.js';
import { decodePayloads, hasKnownPayload, knownFrame } from './decoders/index.js';
import { DecodeError, PRESENCE_FORMATS, type DecodedAdvertisement } from './decoders/types.js';
import { counterFileText, readCounterFile, type CounterRecord } from './counter-file.js';
import { FreshnessGate, type Freshness as FreshnessVerdict } from './freshness.js';
import { BlePairing } from './pairing.js';
import { scannerFor, type BleScanner, type ScannerStatus } from './scanner.js';

const HOUSEKEEPING_MS = 2_000;
const WARN_EVERY_MS = 60_000;
/** Stale frames in a row from one device before an operator is told it may have reset its counter. */
const STALE_FRAMES_BEFORE_ALERT = 3;

/** Something about a BLE device's replay protection an operator must act on. */
export type BleAlert = RaisedAlert<'ble-alert'>;

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
  /** Routed to the log and `<prefix>/<id>/alerts` by the composition root. */
  onAlert?: (alert: BleAlert) => void;
}

type Outcome = 'accepted' | 'repeat' | 'no-data' | 'stale' | 'replay' | 'downgrade' | 'counter-unknown' | 'mic-failure' | 'undecodable' | 'format-mismatch';

/**
 * BLE sensors: allowlisted advertisers of the formats in decoders/ (BTHome and MiBeacon plain or
 * encrypted, Ruuvi, pvvx/ATC, Govee, Inkbird, SwitchBot, Qingping, iBeacon, Eddystone) heard
 * through BlueZ. Each fresh advertisement becomes one sample; repeats, replays and downgrades
 * are dropped and counted in `fieldgate_ble_advertisements_total{outcome}`. Beacons are read
 * on RSSI changes too (their payload rarely changes), with the RSSI as a value.
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
  /** MAC → the allowlist `addedAt` its counter state belongs to; a new one means the device was re-paired. */
  private readonly pairings = new Map<string, number>();
  private readonly staleInARow = new Map<string, number>();

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
    this.scanner = scannerFor(deps.config, {
      log: deps.log,
      clock: deps.clock,
      onAdvertisement: (advertisement) => this.handle(advertisement),
      onRearm: (reason) => rearms.inc({ reason }),
      ...(deps.connect ? { connect: deps.connect } : {}),
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
    const entry = this.store.get(advertisement.mac);
    if (!entry) return;
    if (advertisement.rssi !== undefined) this.activity.register(entry.id, { rssi: advertisement.rssi });
    const presence = PRESENCE_FORMATS.has(entry.format);
    if ((advertisement.kind === 'rssi' && !presence) || !hasKnownPayload(advertisement)) return;
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
    if (verdict === 'repeat' || verdict === 'no-data') {
      this.outcomes.inc({ outcome: verdict });
      return;
    }
    if (verdict !== 'fresh') {
      this.reject(entry.id, advertisement.mac, verdict, describeRefusal(verdict, decoded.counter));
      if (verdict === 'stale') this.countStale(entry.id, entry.mac);
      return;
    }
    this.staleInARow.delete(entry.mac);
    this.outcomes.inc({ outcome: 'accepted' });
    this.activity.seen(entry.id);
    if (Object.keys(decoded.values).length === 0) return;
    const values = presence && advertisement.rssi !== undefined ? { ...decoded.values, rssi: { value: advertisement.rssi, unit: 'dBm' } } : decoded.values;
    this.deps.sink.accept({ sensorId: entry.id, ts: this.deps.clock.now(), values }).catch((error: unknown) => {
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

  /** A device whose counter went down may have reset (power loss) or be replayed: only re-pairing accepts it. */
  private countStale(sensorId: string, mac: string): void {
    const count = (this.staleInARow.get(mac) ?? 0) + 1;
    this.staleInARow.set(mac, count);
    if (count !== STALE_FRAMES_BEFORE_ALERT) return;
    this.alert({
      kind: 'counter-went-back',
      severity: 'warning',
      message: `BLE sensor ${sensorId} (${mac}) sends counters below the last accepted one: a replay, or the device restarted its counter. Its frames are refused; if it was reset, re-pair it (fieldgate ble allowlist add --mac ${mac} …)`,
    });
  }

  /** Told by pairing in this process: the device was added again (with a proven key) or removed. */
  private deviceChanged(mac: string): void {
    this.restartCounter(mac);
    this.followPairings();
    this.registerSensors();
  }

  /** Restarts the counter of every device whose allowlist entry was re-added (e.g. by the CLI) or removed. */
  private followPairings(): void {
    const current = new Map(this.store.all().map((entry) => [entry.mac, entry.addedAt]));
    for (const [mac, pairedAt] of this.pairings) {
      if (current.get(mac) !== pairedAt) this.restartCounter(mac);
    }
    this.pairings.clear();
    for (const [mac, pairedAt] of current) this.pairings.set(mac, pairedAt);
  }

  private restartCounter(mac: string): void {
    const hadCounter = this.gate.saved(mac) !== undefined;
    this.gate.forget(mac);
    this.staleInARow.delete(mac);
    const entry = this.store.get(mac);
    if (entry && hadCounter) {
      this.alert({ kind: 'counter-reset', severity: 'info', message: `BLE sensor ${entry.id} (${mac}) was re-paired: its replay counter starts over with its next frame` });
    }
  }

  private alert(alert: Omit<BleAlert, 'ts'>): void {
    const full = { ...alert, ts: this.deps.clock.now() };
    this.deps.log[alert.severity === 'info' ? 'info' : alert.severity === 'warning' ? 'warn' : 'error']({ alert: alert.kind }, alert.message);
    this.deps.onAlert?.(full);
  }

  private registerSensors(): void {
    for (const entry of this.store.all()) this.activity.register(entry.id);
  }

  private tidy(): void {
    try {
      if (this.store.refreshIfChanged()) {
        this.deps.log.info({ devices: this.store.list().length }, 'BLE allowlist changed on disk; reloaded');
        this.followPairings();
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

  /**
   * Encrypted-frame counters (BTHome, MiBeacon) survive restarts, so a frame captured before a restart cannot be
   * replayed after it. A counter saved under an earlier pairing of the device is dropped. When the
   * file exists but cannot be read, every keyed device's counter is unknown: its frames are refused
   * until it is re-paired, since accepting any counter would let old captures replay.
   */
  private restoreCounters(): void {
    const file = readCounterFile(this.countersFile);
    const keyed = this.store.all().filter((entry) => entry.bindKey !== undefined);
    for (const entry of this.store.all()) this.pairings.set(entry.mac, entry.addedAt);
    if (file.kind === 'unreadable') {
      for (const entry of keyed) this.gate.restore(entry.mac, { unknown: true });
      this.alert({
        kind: 'counters-unreadable',
        severity: 'critical',
        message: `${this.countersFile} cannot be read (${file.problem}): frames from ${keyed.length} encrypted BLE sensor(s) are refused until each is re-paired`,
      });
    } else if (file.kind === 'read') {
      for (const entry of keyed) {
        const record = file.devices.get(entry.mac);
        if (record && (record.pairedAt === undefined || record.pairedAt === entry.addedAt)) this.gate.restore(entry.mac, record.saved);
      }
    }
    this.saveCounters();
  }

  private saveCounters(): void {
    const devices = new Map<string, Required<CounterRecord>>();
    for (const entry of this.store.all()) {
      const saved = entry.bindKey !== undefined ? this.gate.saved(entry.mac) : undefined;
      if (saved) devices.set(entry.mac, { pairedAt: entry.addedAt, saved });
    }
    const text = counterFileText(devices);
    if (text === this.savedCounters) return;
    try {
      writeFileDurablySync(this.countersFile, text, 0o600);
      this.savedCounters = text;
    } catch (error) {
      this.deps.log.error({ err: error instanceof Error ? error.message : String(error) }, 'could not save BLE replay counters');
    }
  }
}

function describeRefusal(verdict: Exclude<FreshnessVerdict, 'fresh' | 'repeat' | 'no-data'>, counter: number | undefined): string {
  switch (verdict) {
    case 'downgrade':
      return 'plaintext frame from a device with a bind key';
    case 'counter-unknown':
      return 'its last counter is unknown (counters file unreadable); re-pair the device to accept its frames';
    default:
      return `counter ${counter} is not new`;
  }
}

function frameHex(advertisement: Advertisement): string {
  const payload = knownFrame(advertisement);
  return payload ? bytesToHex(payload) : '';
}
