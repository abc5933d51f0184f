import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../../main/config/validate.js';
import { withoutUserinfo } from '../../../../main/shared/config/cloud.js';
import { ConfigError } from '../../../../main/shared/errors.js';

const base = { gateway: { id: 'gw-1', dataDir: '/var/lib/fieldgate' }, ui: { enabled: false } };
const tls = { caFile: 'ca.pem', certFile: 'gw.pem', keyFile: 'gw.key' };

function problems(cloud: Record<string, unknown>): string[] {
  try {
    validateConfig({ ...base, cloud });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
}

describe('cloud config', () => {
  it('has safe defaults', () => {
    const config = validateConfig({ ...base, cloud: { url: 'mqtts://broker:8883', ...tls } });
    assert.deepEqual(
      { ...config.cloud, caFile: undefined, certFile: undefined, keyFile: undefined },
      {
        profile: 'generic',
        url: 'mqtts://broker:8883',
        allowInsecure: false,
        caFile: undefined,
        certFile: undefined,
        keyFile: undefined,
        topicPrefix: 'fieldgate',
        protocolVersion: 5,
        keepaliveSeconds: 30,
        connectTimeoutMs: 15_000,
        batch: { maxReadings: 100, maxBytes: 65_536 },
        inFlight: 32,
        drainOrder: 'fifo',
        backoff: { initialMs: 1_000, maxMs: 60_000, stableMs: 30_000 },
        statusIntervalMs: 60_000,
      },
    );
  });

  it('refuses a user name or password in the URL, naming the key and the fix, without echoing them', () => {
    for (const url of ['mqtts://fieldgate:s3cr3t@broker:8883', 'wss://token@broker/mqtt', 'mqtts://:s3cr3t@broker']) {
      const found = problems({ url, ...tls });
      assert.equal(found.length, 1, `${url}: ${found.join(' | ')}`);
      assert.match(found[0] ?? '', /^"cloud\.url": a user name or password does not belong in the URL .*remove the part before "@"; the gateway authenticates with its client certificate/);
      assert.ok(!found[0]?.includes('s3cr3t') && !found[0]?.includes('token'), found[0]);
      assert.match(found[0] ?? '', /got "(mqtts|wss):\/\/\*\*\*@broker/);
    }
    assert.deepEqual(problems({ url: 'wss://broker:443/mqtt@v1', ...tls }), [], 'an @ in the path is not userinfo');
    assert.equal(withoutUserinfo('mqtts://u:p@broker:8883/x'), 'mqtts://broker:8883/x');
    assert.equal(withoutUserinfo('mqtts://broker:8883'), 'mqtts://broker:8883');
  });

  it('refuses plaintext unless allowInsecure, and requires the TLS files for mqtts', () => {
    assert.deepEqual(problems({ url: 'mqtt://broker:1883' }), [
      '"cloud.url": plaintext MQTT is refused: use mqtts:// with caFile, certFile and keyFile, or set cloud.allowInsecure: true, got "mqtt://broker:1883"',
    ]);
    assert.deepEqual(problems({ url: 'mqtt://broker:1883', allowInsecure: true }), []);
    const partial = problems({ url: 'mqtts://broker:8883', certFile: 'gw.pem' });
    assert.equal(partial.length, 2);
    assert.match(partial[0] ?? '', /"cloud\.caFile": mutual TLS needs cloud\.caFile: give the path to the PEM file/);
  });

  it('names the key, the value and what is allowed', () => {
    assert.deepEqual(problems({ url: 'mqtts://b', ...tls, drainOrder: 'lifo' }), ['"cloud.drainOrder": expected "fifo" or "live-first", got "lifo"']);
    assert.deepEqual(problems({ url: 'mqtts://b', ...tls, protocolVersion: 3 }), ['"cloud.protocolVersion": expected 5 (MQTT 5) or 4 (MQTT 3.1.1), got 3']);
    assert.deepEqual(problems({ url: 'mqtts://b', ...tls, batch: { maxReadings: 0 } }), ['"cloud.batch.maxReadings": expected an integer >= 1, got 0']);
    assert.match(problems({ url: 'mqtts://b', ...tls, inflight: 3 })[0] ?? '', /"cloud\.inflight": unknown key; did you mean "inFlight"\?/);
    assert.deepEqual(problems({ url: 'mqtts://b', ...tls, backoff: { initialMs: 5_000, maxMs: 1_000 } }).length, 1);
  });
});
