import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFleet } from './fleet-run.js';

const GATEWAYS = 100;

test(`${GATEWAYS} production uplinks survive a broker restart with both reconnect strategies: all come back, no reading is lost`, { timeout: 115_000 }, async () => {
  const report = await runFleet({ gateways: GATEWAYS, rate: 1, steadyMs: 2_000, outageMs: 2_000, timeoutMs: 45_000, say: () => undefined });
  assert.deepEqual(report.strategies.map((s) => s.strategy), ['full-jitter', 'fixed-period']);
  for (const strategy of report.strategies) {
    const name = strategy.strategy;
    assert.equal(strategy.gatewaysBack, GATEWAYS, `${name}: gateways back after the restart`);
    assert.ok(strategy.readings.accepted >= GATEWAYS, `${name}: every gateway's sim sensor produced readings (${strategy.readings.accepted})`);
    assert.equal(strategy.readings.lost, 0, `${name}: readings lost`);
    assert.equal(strategy.readings.deliveredUnique, strategy.readings.accepted, `${name}: readings delivered`);
    // Each gateway handshook once at start and once after the restart (the restarted broker's tickets are new).
    assert.ok(strategy.tlsHandshakes.full >= 2 * GATEWAYS, `${name}: full handshakes ${strategy.tlsHandshakes.full}`);
    // The broker saw every gateway reconnect (plus the harness's readiness probe).
    assert.ok(strategy.brokerConnectionsPerSecond.reduce((a, b) => a + b, 0) >= GATEWAYS, `${name}: connections at the broker ${JSON.stringify(strategy.brokerConnectionsPerSecond)}`);
    assert.ok(strategy.failedAttemptsPerGatewayWhileDown > 0, `${name}: the gateways retried while the broker was down`);
    // 100 TLS handshakes cost the broker well over one 10 ms clock tick.
    assert.ok(strategy.brokerCpuSecondsDuringRecovery > 0, `${name}: broker CPU during recovery ${strategy.brokerCpuSecondsDuringRecovery}`);
  }
  assert.ok(Number.isFinite(report.memoryPerGatewayKb.heapUsed), 'memory per gateway measured');
});
