import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../main/log/logger.js';
import { Supervisor } from '../../../main/service/supervisor.js';
import type { Component } from '../../../main/shared/lifecycle.js';

function recorder(events: string[], name: string, behaviour: { failStart?: boolean; hangStop?: boolean } = {}): Component {
  return {
    name,
    async start() {
      events.push(`start ${name}`);
      if (behaviour.failStart) throw new Error(`${name} cannot start`);
    },
    async stop() {
      events.push(`stop ${name}`);
      if (behaviour.hangStop) await new Promise(() => undefined);
    },
  };
}

test('components start in dependency order and stop in reverse', async () => {
  const events: string[] = [];
  const supervisor = new Supervisor({
    components: ['buffer', 'sim', 'uplink'].map((name) => recorder(events, name)),
    log: silentLogger,
    stopTimeoutMs: 1000,
  });
  await supervisor.start();
  await supervisor.stop();
  assert.deepEqual(events, ['start buffer', 'start sim', 'start uplink', 'stop uplink', 'stop sim', 'stop buffer']);
  assert.deepEqual(supervisor.report().map((c) => c.state), ['stopped', 'stopped', 'stopped']);
});

test('a failing component is reported and the rest keep running', async () => {
  const events: string[] = [];
  const supervisor = new Supervisor({
    components: [recorder(events, 'buffer'), recorder(events, 'serial', { failStart: true }), recorder(events, 'uplink')],
    log: silentLogger,
    stopTimeoutMs: 1000,
  });
  await supervisor.start();
  assert.deepEqual(supervisor.report(), [
    { name: 'buffer', state: 'running' },
    { name: 'serial', state: 'failed', error: 'serial cannot start' },
    { name: 'uplink', state: 'running' },
  ]);
  await supervisor.stop();
  assert.ok(events.includes('stop uplink') && events.includes('stop buffer'));
});

test('a component that hangs on stop does not block the others beyond the budget', async () => {
  const events: string[] = [];
  const supervisor = new Supervisor({
    components: [recorder(events, 'buffer'), recorder(events, 'stuck', { hangStop: true })],
    log: silentLogger,
    stopTimeoutMs: 200,
  });
  await supervisor.start();
  await supervisor.stop();
  assert.deepEqual(events.slice(-2), ['stop stuck', 'stop buffer']);
});
