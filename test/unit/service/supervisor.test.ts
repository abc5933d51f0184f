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

test('replacing one component restarts only it, in its place; stop order follows the new list', async () => {
  const events: string[] = [];
  const supervisor = new Supervisor({
    components: ['buffer', 'sim:t1', 'uplink'].map((name) => recorder(events, name)),
    log: silentLogger,
    stopTimeoutMs: 1000,
  });
  await supervisor.start();
  events.length = 0;
  await supervisor.replace('sim:t1', recorder(events, 'sim:t1'));
  await supervisor.replace('serial:p1', recorder(events, 'serial:p1'), { before: 'uplink' });
  await supervisor.replace('uplink', undefined);
  assert.deepEqual(events, ['stop sim:t1', 'start sim:t1', 'start serial:p1', 'stop uplink']);
  assert.deepEqual(supervisor.report(), [
    { name: 'buffer', state: 'running' },
    { name: 'sim:t1', state: 'running' },
    { name: 'serial:p1', state: 'running' },
  ]);
  events.length = 0;
  await supervisor.stop();
  assert.deepEqual(events, ['stop serial:p1', 'stop sim:t1', 'stop buffer']);
});

test('a replacement that fails to start is reported; one added before start waits for start', async () => {
  const events: string[] = [];
  const supervisor = new Supervisor({ components: [recorder(events, 'buffer')], log: silentLogger, stopTimeoutMs: 1000 });
  await supervisor.replace('api', recorder(events, 'api'));
  assert.deepEqual(events, []);
  await supervisor.start();
  await supervisor.replace('api', recorder(events, 'api', { failStart: true }));
  assert.deepEqual(events, ['start buffer', 'start api', 'stop api', 'start api']);
  assert.deepEqual(supervisor.report()[1], { name: 'api', state: 'failed', error: 'api cannot start' });
  await supervisor.stop();
  await supervisor.replace('late', recorder(events, 'late'));
  assert.equal(events.at(-1), 'stop buffer', 'nothing starts after stop');
});
