import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import type { BufferStats } from '../buffer/types.js';
import type { Logger } from '../log/logger.js';
import { otaRootFor } from '../config/location.js';
import { OtaLayout, OtaStateStore, type RollbackMarker } from '../ota/state.js';
import type { Registry } from '../metrics/registry.js';
import type { AlertCondition } from '../shared/alert.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config/schema.js';
import type { Component } from '../shared/lifecycle.js';
import type { SensorStatus } from '../shared/source.js';
import type { UplinkStatus } from '../uplink/uplink.js';
import { UPLINK_ERROR_HINTS } from '../uplink/test-connection.js';
import type { AlertCenter } from './alert-center.js';
import { FailureWindow } from './failure-window.js';
import { SensorIntervals } from './sensor-intervals.js';
import { ShareWindow } from './share-window.js';
import { formatBytes } from '../shared/units.js';

/** Totals since start for one line-oriented serial port entry. */
export interface PortLineTotals {
  port: string;
  lines: number;
  rejected: number;
}

export interface AlertRulesDeps {
  alerts: Pick<AlertCenter, 'reconcile' | 'isActive' | 'active' | 'clear'>;
  config: () => Config;
  sensors: () => SensorStatus[];
  buffer: (now: number) => BufferStats;
  /** Absent when no cloud is configured. */
  uplink: () => UplinkStatus | undefined;
  /** Failed local API sign-ins since start (fieldgate_api_auth_failures_total). */
  loginFailures: () => Promise<number>;
  /** Lines and rejects since start per serial port entry (fieldgate_serial_lines_total, fieldgate_serial_rejects_total). */
  serialLines: () => Promise<PortLineTotals[]>;
  /** The start of the client certificate's validity, when there is a certificate. */
  certificateNotBefore: () => Date | undefined;
  log: Logger;
  clock: Clock;
  metrics: Registry;
}

const SENSOR_KINDS = ['sensor-silent', 'sensor-flooding'] as const;
const BUFFER_KINDS = ['buffer-filling', 'buffer-stale'] as const;

/**
 * Looks at sensors, buffer, disk, cloud connection and logins every `alerts.checkIntervalMs` and
 * hands each rule's conditions to the alerts component, which raises what is new and clears what
 * ended. Thresholds are read from the current config at every check (they follow edits).
 */
export class AlertRules implements Component {
  readonly name = 'alert-rules';
  readonly intervals = new SensorIntervals();
  private readonly cloudFailures = new FailureWindow();
  private readonly logins = new FailureWindow();
  private readonly portLines = new ShareWindow();
  private readonly diskFree: Gauge;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private checking: Promise<void> | undefined;

  constructor(private readonly deps: AlertRulesDeps) {
    this.diskFree = new Gauge({ name: 'fieldgate_disk_free_bytes', help: "Free bytes on the data dir's filesystem (for unprivileged users)", registers: [deps.metrics] });
  }

  async start(): Promise<void> {
    this.startedAt = this.deps.clock.now();
    await this.check();
    this.schedule();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  /** A sample was accepted (the interval learner's input). */
  observe(sensorId: string): void {
    this.intervals.observe(sensorId, this.deps.clock.now());
  }

  /** Runs every rule once. */
  check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.check().finally(() => {
        if (this.timer) this.schedule();
      });
    }, this.deps.config().alerts.checkIntervalMs);
  }

  private async checkAll(): Promise<void> {
    const now = this.deps.clock.now();
    const rules: [string, () => Promise<void> | void][] = [
      ['sensors', () => this.checkSensors(now)],
      ['clock', () => this.checkClock(now)],
      ['buffer', () => this.checkBuffer(now)],
      ['disk', () => this.checkDisk()],
      ['cloud', () => this.checkCloud(now)],
      ['logins', () => this.checkLogins(now)],
      ['ota', () => this.checkOta()],
    ];
    for (const [name, rule] of rules) {
      try {
        await rule();
      } catch (error) {
        this.deps.log.error({ err: error, rule: name }, 'alert rule failed; the others run on');
      }
    }
  }

  private async checkSensors(now: number): Promise<void> {
    const config = this.deps.config();
    const { sensorSilent, sensorFlooding } = config.alerts;
    const staleAfter = staleAfterBySensor(config);
    const conditions: AlertCondition[] = [];
    const rates = new Map(this.deps.sensors().map((sensor) => [sensor.sensorId, sensor.rate]));
    // Configured sensors count before their first reading (a source may list a sensor only once it was heard).
    for (const id of new Set([...configuredSensorIds(config), ...rates.keys()])) {
      const rate = rates.get(id) ?? 0;
      const seen = this.intervals.lastAt(id);
      // Not heard from since start: silent once the floor passed, and still silent if it was before the restart.
      const lastAt = seen ?? this.startedAt;
      const learned = this.intervals.intervalMs(id);
      const limit = staleAfter.get(id) ?? Math.max(sensorSilent.floorMs, learned === undefined ? 0 : sensorSilent.intervals * learned);
      const stillSilent = seen === undefined && this.deps.alerts.isActive(`sensor-silent:${id}`);
      if (now - lastAt > limit || stillSilent) {
        conditions.push({
          type: 'sensor-alert',
          kind: 'sensor-silent',
          subject: id,
          severity: 'warning',
          message: seen === undefined ? `sensor "${id}" sent nothing since the gateway started` : `sensor "${id}" sent nothing for ${seconds(now - lastAt)} (expected at least every ${seconds(limit)})`,
          hint: 'check its power, cable or radio range; for serial sensors that the port is still plugged in (fieldgate status)',
        });
      }
      const baseline = this.intervals.baselineRate(id);
      const flooding = baseline !== undefined && rate > sensorFlooding.rateFactor * baseline;
      if (flooding) {
        this.intervals.freeze(id, now);
        conditions.push({
          type: 'sensor-alert',
          kind: 'sensor-flooding',
          subject: id,
          severity: 'warning',
          message: `sensor "${id}" sends ${rate.toFixed(1)} readings/s, more than ${sensorFlooding.rateFactor}× its usual ${baseline.toFixed(2)}/s`,
          hint: 'check the device for a fault or a changed report interval; a serial port can be capped with maxLinesPerSecond',
        });
      }
    }
    conditions.push(...(await this.rejectingPorts(now)));
    this.deps.alerts.reconcile(SENSOR_KINDS, conditions);
  }

  /** Line-oriented serial ports whose share of rejected lines within the window is above the limit (subject `serial:<port id>`). */
  private async rejectingPorts(now: number): Promise<AlertCondition[]> {
    const config = this.deps.config();
    const { rejectShare, minLines, windowMs } = config.alerts.sensorFlooding;
    const ports = new Set(config.sensors.serial.filter((port) => port.format !== 'modbus-rtu').map((port) => port.id));
    this.portLines.keep(ports);
    const conditions: AlertCondition[] = [];
    for (const totals of await this.deps.serialLines()) {
      if (!ports.has(totals.port)) continue;
      const { lines, rejected } = this.portLines.update(totals.port, totals, now, windowMs);
      if (lines < minLines || rejected / lines <= rejectShare) continue;
      conditions.push({
        type: 'sensor-alert',
        kind: 'sensor-flooding',
        subject: `serial:${totals.port}`,
        severity: 'warning',
        message: `serial port "${totals.port}" rejected ${rejected} of its last ${lines} lines (${Math.round((rejected / lines) * 100)}%, more than alerts.sensorFlooding.rejectShare ${Math.round(rejectShare * 100)}%)`,
        hint: 'the reasons are in fieldgate_serial_rejects_total and the log (namespace serial): bad-json or bad-format usually means a wrong baudRate or format, rate-limited a device sending faster than maxLinesPerSecond',
      });
    }
    return conditions;
  }

  /** The clock is wrong while it is before the client certificate's validity; it clears once NTP (or a technician) set it right. */
  private checkClock(now: number): void {
    const notBefore = this.deps.certificateNotBefore();
    const conditions: AlertCondition[] =
      notBefore !== undefined && now < notBefore.getTime()
        ? [{
            type: 'identity-alert',
            kind: 'clock-wrong',
            subject: 'identity',
            severity: 'critical',
            // No "now" in the wording: it would change the alert at every check.
            message: `the system clock is before the device certificate's start of validity (${notBefore.toISOString()}): it looks wrong, and TLS to the cloud fails until it is right`,
            hint: 'check that NTP works (timedatectl status; timedatectl set-ntp true) or set the date; the alert clears at the next check once the clock is right',
          }]
        : [];
    this.deps.alerts.reconcile(['clock-wrong'], conditions);
  }

  private checkBuffer(now: number): void {
    const { buffer: limits, alerts } = this.deps.config();
    const stats = this.deps.buffer(now);
    const conditions: AlertCondition[] = [];
    const share = Math.max(stats.depth / limits.maxRows, stats.bytes / limits.maxBytes);
    if (share >= alerts.buffer.fillShare) {
      conditions.push({
        type: 'storage-alert',
        kind: 'buffer-filling',
        subject: 'buffer',
        severity: share >= 1 ? 'critical' : 'warning',
        message: `the buffer is ${Math.round(share * 100)}% full (${stats.depth} of ${limits.maxRows} readings, ${stats.bytes} of ${limits.maxBytes} bytes); at 100% buffer.fullPolicy drops readings`,
        hint: 'check the cloud connection (fieldgate status); raise buffer.maxRows/maxBytes if the disk allows',
      });
    }
    if (stats.oldestUnsentAgeMs !== null && stats.oldestUnsentAgeMs > alerts.buffer.oldestUnsentMs) {
      conditions.push({
        type: 'storage-alert',
        kind: 'buffer-stale',
        subject: 'buffer',
        severity: 'warning',
        message: `the oldest unsent reading waits for ${seconds(stats.oldestUnsentAgeMs)} (more than alerts.buffer.oldestUnsentMs)`,
        hint: 'the uplink is not delivering: check the cloud connection and its last error (fieldgate status)',
      });
    }
    this.deps.alerts.reconcile(BUFFER_KINDS, conditions);
  }

  private async checkDisk(): Promise<void> {
    const config = this.deps.config();
    const fs = await statfs(config.gateway.dataDir);
    const free = fs.bavail * fs.bsize;
    this.diskFree.set(free);
    const min = config.alerts.disk.minFreeBytes;
    const conditions: AlertCondition[] =
      free < min
        ? [{
            type: 'storage-alert',
            kind: 'disk-low',
            subject: 'disk',
            severity: 'critical',
            message: `only ${formatBytes(free)} free on the filesystem of ${config.gateway.dataDir} (alerts.disk.minFreeBytes is ${formatBytes(min)})`,
            hint: 'free space on that filesystem (old logs, files of other programs) or cap buffer.maxFileBytes below what is left',
          }]
        : [];
    this.deps.alerts.reconcile(['disk-low'], conditions);
  }

  private checkCloud(now: number): void {
    const status = this.deps.uplink();
    const { count, windowMs } = this.deps.config().alerts.cloudFailures;
    const conditions: AlertCondition[] = [];
    if (status?.state === 'connected' || !status) this.cloudFailures.reset();
    else {
      for (const [kind, total] of Object.entries(status.errors)) {
        const recent = this.cloudFailures.update(kind, total ?? 0, now, windowMs);
        if (recent < count) continue;
        const last = status.lastError?.kind === kind ? `; last: ${status.lastError.message}` : '';
        conditions.push({
          type: 'uplink-alert',
          kind: 'cloud-failing',
          subject: kind,
          severity: 'critical',
          message: `${recent} connection failures of kind "${kind}" to ${status.broker} within ${seconds(windowMs)}${last}`,
          hint: UPLINK_ERROR_HINTS[kind as keyof typeof UPLINK_ERROR_HINTS],
        });
      }
    }
    this.deps.alerts.reconcile(['cloud-failing'], conditions);
  }

  private async checkLogins(now: number): Promise<void> {
    const { count, windowMs } = this.deps.config().alerts.loginFailures;
    const recent = this.logins.update('login', await this.deps.loginFailures(), now, windowMs);
    const conditions: AlertCondition[] =
      recent >= count
        ? [{
            type: 'api-alert',
            kind: 'login-failures',
            subject: 'api',
            severity: 'warning',
            message: `${recent} failed sign-ins to the local API within ${seconds(windowMs)}: someone may be guessing passwords`,
            hint: 'check the log (namespace api) for the clients; keep ui.host on loopback or a trusted network',
          }]
        : [];
    this.deps.alerts.reconcile(['login-failures'], conditions);
  }

  /**
   * An install in its trial (the OTA journal says so) until the new version marks itself good or is
   * rolled back; and the last rollback (its marker in the OTA state) until a later version marks itself good.
   */
  private async checkOta(): Promise<void> {
    const config = this.deps.config();
    const conditions: AlertCondition[] = [];
    if (config.ota) {
      const store = new OtaStateStore(new OtaLayout(otaRootFor(config)));
      const [journal, rollback] = await Promise.all([store.readJournal(), store.readRollback()]);
      if (rollback) conditions.push(rolledBack(rollback, store.layout.stateDir));
      if (journal?.phase === 'trial') {
        conditions.push({
          type: 'ota-alert',
          kind: 'trial-pending',
          subject: 'ota',
          severity: 'info',
          message: `update to version ${journal.version} is on trial until ${new Date(journal.deadline).toISOString()}: without mark-good it rolls back`,
          hint: 'if the gateway works, let it mark itself good (or run fieldgate ota mark-good); otherwise fieldgate ota rollback',
        });
      }
    }
    // Another install's trial (its message names the version and deadline) is news for the cloud:
    // the last trial's alert ends and a new one is raised, instead of a rewording kept locally.
    const trial = conditions.find((condition) => condition.kind === 'trial-pending');
    const announced = this.deps.alerts.active().find((alert) => alert.kind === 'trial-pending');
    if (trial && announced && announced.message !== trial.message) this.deps.alerts.clear(announced.key);
    this.deps.alerts.reconcile(['trial-pending', 'rolled-back'], conditions);
  }
}

/** The last rollback: a warning when a trial failed or an install was interrupted, info when an operator chose it. */
function rolledBack(marker: RollbackMarker, stateDir: string): AlertCondition {
  const to = marker.to === null ? 'no version is current now' : `version ${marker.to} runs again`;
  const at = new Date(marker.at).toISOString();
  const byOperator = marker.reason === 'operator';
  return {
    type: 'ota-alert',
    kind: 'rolled-back',
    subject: 'ota',
    severity: byOperator ? 'info' : 'warning',
    message: byOperator ? `an operator rolled back from version ${marker.from} at ${at}; ${to}` : `the update to version ${marker.from} was rolled back at ${at} (${marker.reason}); ${to}`,
    hint: `${byOperator ? '' : `its output is in ${join(stateDir, 'logs', `${marker.from}.log`)}; `}the alert clears once a later install marks itself good`,
  };
}

/** Sensor ids the config names: sim sensors, and serial ports' fixed `sensorId` and `sensorIds` (BLE and ids read from the data appear once heard). */
function configuredSensorIds(config: Config): string[] {
  const ids = config.sensors.sim.map((sensor) => sensor.id);
  for (const port of config.sensors.serial) ids.push(...portSensorIds(port));
  return ids;
}

/** `staleAfterMs` of the serial port each sensor is configured on. */
function staleAfterBySensor(config: Config): Map<string, number> {
  const map = new Map<string, number>();
  for (const port of config.sensors.serial) {
    if (port.staleAfterMs === undefined) continue;
    for (const id of portSensorIds(port)) map.set(id, port.staleAfterMs);
  }
  return map;
}

function portSensorIds(port: Config['sensors']['serial'][number]): string[] {
  if (port.format === 'modbus-rtu') return port.slaves.map((slave) => slave.sensorId);
  return port.sensor.kind === 'fixed' ? [port.sensor.sensorId] : Object.values(port.sensor.map ?? {});
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}
