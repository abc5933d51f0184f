import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ControlSubscriptions } from '../../../main/uplink/control-subscriptions.js';

function recordingLogger() {
  const lines: Array<{ msg: string; control?: string }> = [];
  const log = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string; control?: string }) });
  return { log, lines };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ControlSubscriptions', () => {
  it('delivers a message to every handler whose filter matches, wildcards included', async () => {
    const { log } = recordingLogger();
    const controls = new ControlSubscriptions({ log, session: () => undefined, topicFilter: (suffix) => `p/gw/${suffix}` });
    const got: string[] = [];
    controls.add('cert/+', (payload, topic) => void got.push(`plus ${topic} ${payload.toString()}`));
    controls.add('#', (_payload, topic) => void got.push(`hash ${topic}`));
    controls.add('other', () => void got.push('other'));
    controls.dispatch(Buffer.from('x'), 'cert/renew');
    await tick();
    assert.deepEqual(got.sort(), ['hash cert/renew', 'plus cert/renew x']);
  });

  it('keeps a filter while it has handlers and forgets it with the last one', async () => {
    const { log } = recordingLogger();
    const controls = new ControlSubscriptions({ log, session: () => undefined, topicFilter: (suffix) => `p/gw/${suffix}` });
    const got: string[] = [];
    const first = controls.add('a', () => void got.push('first'));
    const second = controls.add('a', () => void got.push('second'));
    assert.deepEqual(controls.filters(), ['p/gw/a']);
    first();
    controls.dispatch(Buffer.alloc(0), 'a');
    await tick();
    assert.deepEqual(got, ['second']);
    second();
    assert.deepEqual(controls.filters(), []);
  });

  it('logs a failing handler (thrown or rejected) and still runs the others', async () => {
    const { log, lines } = recordingLogger();
    const controls = new ControlSubscriptions({ log, session: () => undefined, topicFilter: (suffix) => `p/gw/${suffix}` });
    let ran = false;
    controls.add('a', () => {
      throw new Error('boom');
    });
    controls.add('a', () => Promise.reject(new Error('later boom')));
    controls.add('a', () => void (ran = true));
    controls.dispatch(Buffer.alloc(0), 'a');
    await tick();
    assert.equal(ran, true);
    assert.deepEqual(lines.map((l) => [l.msg, l.control]), [
      ['uplink: control handler failed', 'a'],
      ['uplink: control handler failed', 'a'],
    ]);
  });
});
