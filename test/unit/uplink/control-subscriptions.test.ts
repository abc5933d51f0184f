import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ControlSubscriptions } from '../../../main/uplink/control-subscriptions.js';

function recordingLogger() {
  const lines: Array<{ msg: string; topic?: string }> = [];
  const log = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string; topic?: string }) });
  return { log, lines };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ControlSubscriptions', () => {
  it('delivers a message to every handler whose filter matches, wildcards included', async () => {
    const { log } = recordingLogger();
    const controls = new ControlSubscriptions({ log, session: () => undefined });
    const got: string[] = [];
    controls.add('p/gw/cert/+', (payload, topic) => void got.push(`plus ${topic} ${payload.toString()}`));
    controls.add('p/gw/#', (_payload, topic) => void got.push(`hash ${topic}`));
    controls.add('p/gw/other', () => void got.push('other'));
    controls.dispatch(Buffer.from('x'), 'p/gw/cert/renew');
    await tick();
    assert.deepEqual(got.sort(), ['hash p/gw/cert/renew', 'plus p/gw/cert/renew x']);
  });

  it('keeps a filter while it has handlers and forgets it with the last one', async () => {
    const { log } = recordingLogger();
    const controls = new ControlSubscriptions({ log, session: () => undefined });
    const got: string[] = [];
    const first = controls.add('p/gw/a', () => void got.push('first'));
    const second = controls.add('p/gw/a', () => void got.push('second'));
    assert.deepEqual(controls.filters(), ['p/gw/a']);
    first();
    controls.dispatch(Buffer.alloc(0), 'p/gw/a');
    await tick();
    assert.deepEqual(got, ['second']);
    second();
    assert.deepEqual(controls.filters(), []);
  });

  it('logs a failing handler (thrown or rejected) and still runs the others', async () => {
    const { log, lines } = recordingLogger();
    const controls = new ControlSubscriptions({ log, session: () => undefined });
    let ran = false;
    controls.add('p/gw/a', () => {
      throw new Error('boom');
    });
    controls.add('p/gw/a', () => Promise.reject(new Error('later boom')));
    controls.add('p/gw/a', () => void (ran = true));
    controls.dispatch(Buffer.alloc(0), 'p/gw/a');
    await tick();
    assert.equal(ran, true);
    assert.deepEqual(lines.map((l) => [l.msg, l.topic]), [
      ['uplink: control handler failed', 'p/gw/a'],
      ['uplink: control handler failed', 'p/gw/a'],
    ]);
  });
});
