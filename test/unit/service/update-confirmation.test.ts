import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHealthy } from '../../../main/service/update-confirmation.js';
import type { UplinkStatus } from '../../../main/uplink/uplink.js';

const running = [
  { name: 'buffer', state: 'running' as const },
  { name: 'sim', state: 'running' as const },
];

function uplink(state: UplinkStatus['state']): UplinkStatus {
  return {
    state,
    broker: 'mqtts://localhost:8883',
    gatewayId: 'gw',
    protocolVersion: 5,
    connectedSince: null,
    nextAttemptAt: null,
    lastError: null,
    errors: {},
    inFlightMessages: 0,
    readingsSent: 0,
    certificate: null,
  };
}

test('an update is confirmed only with every component running and the uplink connected', () => {
  assert.equal(isHealthy(running, uplink('connected')), true);
  assert.equal(isHealthy(running, uplink('waiting')), false);
  assert.equal(isHealthy([...running, { name: 'serial', state: 'failed', error: 'x' }], uplink('connected')), false);
  assert.equal(isHealthy([{ name: 'buffer', state: 'starting' }], uplink('connected')), false);
});

test('a box without a cloud is offline-tolerant: running components are enough', () => {
  assert.equal(isHealthy(running, undefined), true);
});
