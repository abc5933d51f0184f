import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReconnectWaiters } from '../../../main/uplink/reconnect-waiters.js';

const outcome = (promise: Promise<void>) => promise.then(() => 'resolved', (error: Error) => `rejected: ${error.message}`);

describe('ReconnectWaiters', () => {
  it('settles a waiter only with an attempt started after its call', async () => {
    const waiters = new ReconnectWaiters();
    const waiting = outcome(waiters.wait(3));
    let settled = false;
    void waiting.then(() => (settled = true));
    waiters.settle(3, new Error('attempt 3 failed'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    waiters.settle(4);
    assert.equal(await waiting, 'resolved');
  });

  it('rejects with the failed attempt\'s error and leaves later waiters pending', async () => {
    const waiters = new ReconnectWaiters();
    const early = outcome(waiters.wait(1));
    const late = outcome(waiters.wait(5));
    waiters.settle(2, new Error('refused'));
    assert.equal(await early, 'rejected: refused');
    waiters.rejectAll(new Error('uplink stopped'));
    assert.equal(await late, 'rejected: uplink stopped');
  });
});
