import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AlertCenter } from '../../../main/alerts/alert-center.js';
import { AlertRules } from '../../../main/alerts/rules.js';
import type { BufferStats } from '../../../main/buffer/types.js';
import { validateConfig } from '../../../main/config/validate.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import type { Config } from '../../../main/shared/config/schema.js';
import type { SensorStatus } from '../../../main/shared/source.js';

// The rules against a real alerts store, with the gateway's readings (buffer stats, sensor rates,
// login counter) given at the wire and a clock the test moves.
describe('AlertRules', () => {
  let dir: string;
  let now: number;
  let center: AlertCenter;
  let config: Config;
  let stats: BufferStats;
  let sensors: SensorStatus[];
  let loginFailures: number;
  let rules: AlertRules;
  const active = () => center.active().map((a) => a.key).sort();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-rules-'));
    now = Date.UTC(2026, 0, 1);
    config = validateConfig({ gateway: { id: 'gw-1', dataDir: dir }, buffer: { maxRows: 100 }, ota: { model: 'test-box' }, alerts: { disk: { minFreeBytes: 0 }, loginFailures: { count: 3, windowMs: 60_000 } } });
    stats = { depth: 0, bytes: 0, inFlight: 0, oldestUnsentAgeMs: null, drops: { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 }, pendingDropRecords: 0 };
    sensors = [];
    loginFailures = 0;
    const clock = { now: () => now };
    const metrics = createMetricsRegistry({ processMetrics: false });
    center = new AlertCenter({ file: join(dir, 'alerts.db'), gatewayId: 'gw-1', keepRecent: () => 10, log: silentLogger, clock, metrics });
    await center.start();
    rules = new AlertRules({ alerts: center, config: () => config, sensors: () => sensors, buffer: () => stats, uplink: () => undefined, loginFailures: async () => loginFailures, log: silentLogger, clock, metrics });
  });
  afterEach(async () => {
    await center.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('buffer-filling at 80% of maxRows (critical at 100%), buffer-stale past oldestUnsentMs; both clear', async () => {
    stats = { ...stats, depth: 79 };
    await rules.check();
    assert.deepEqual(active(), []);
    stats = { ...stats, depth: 80, oldestUnsentAgeMs: 3_600_001 };
    await rules.check();
    assert.deepEqual(active(), ['buffer-filling:buffer', 'buffer-stale:buffer']);
    stats = { ...stats, depth: 100 };
    await rules.check();
    assert.equal(center.active().find((a) => a.kind === 'buffer-filling')?.severity, 'critical');
    stats = { ...stats, depth: 10, oldestUnsentAgeMs: 1_000 };
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('login-failures once count failures fall within the window; clears when they age out', async () => {
    loginFailures = 2;
    await rules.check();
    assert.deepEqual(active(), []);
    now += 1_000;
    loginFailures = 3;
    await rules.check();
    assert.deepEqual(active(), ['login-failures:api']);
    now += 60_000;
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('sensor-flooding when the rate is far above the learned one; the baseline does not follow the flood', async () => {
    for (let i = 0; i < 40; i++) {
      now += 1_000;
      rules.observe('t1');
    }
    sensors = [{ sensorId: 't1', source: 'sim', online: true, lastSeen: now, rate: 1 }];
    await rules.check();
    assert.deepEqual(active(), []);
    sensors = [{ ...sensors[0] as SensorStatus, rate: 50 }];
    await rules.check();
    assert.deepEqual(active(), ['sensor-flooding:t1']);
    for (let i = 0; i < 200; i++) {
      now += 20;
      rules.observe('t1');
    }
    await rules.check();
    assert.deepEqual(active(), ['sensor-flooding:t1'], 'still flooding: the baseline was frozen');
    sensors = [{ ...sensors[0] as SensorStatus, rate: 1 }];
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('trial-pending while the OTA journal is in its trial', async () => {
    await rules.check();
    assert.deepEqual(active(), []);
    mkdirSync(join(dir, 'ota', 'state'), { recursive: true });
    const journal = join(dir, 'ota', 'state', 'install.json');
    writeFileSync(journal, JSON.stringify({ phase: 'trial', version: 7, previous: 6, securityCounter: 1, issuedAt: now, trustedTime: now, deadline: now + 120_000 }));
    await rules.check();
    assert.deepEqual(active(), ['trial-pending:ota']);
    rmSync(journal);
    await rules.check();
    assert.deepEqual(active(), []);
  });
});
