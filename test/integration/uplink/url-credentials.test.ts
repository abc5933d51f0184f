import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { createLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { systemClock } from '../../../main/shared/clock.js';
import { Uplink } from '../../../main/uplink/uplink.js';
import { freePort } from '../../helpers/net.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferConfig, cloudConfig, waitFor } from './fixture.js';

describe('cloud.url credentials', () => {
  it('never appear in the status, error messages or logs, even if a URL with userinfo got past the schema', async () => {
    const port = await freePort(); // nothing listens: connection-refused, whose message names the broker
    let logged = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logged += chunk.toString();
        callback();
      },
    });
    const log = createLogger({ destination, level: 'debug' });
    const dir = await mkdtemp(join(tmpdir(), 'fieldgate-url-'));
    const metrics = createMetricsRegistry({ processMetrics: false });
    const buffer = new SqliteBuffer({ file: join(dir, 'buffer.db'), options: bufferConfig(), log, clock: systemClock, metrics });
    await buffer.start(new AbortController().signal);
    // The schema refuses userinfo (see the cloud config unit test): bypass it to check the second line of defence.
    const config = { ...cloudConfig(`mqtt://127.0.0.1:${port}`, { allowInsecure: true }), url: `mqtt://fieldgate:s3cr3t-pw@127.0.0.1:${port}` };
    const uplink = new Uplink({
      buffer,
      config,
      gatewayId: 'gw-1',
      credentials: async () => ({ ca: '', cert: '', key: '' }),
      log,
      clock: systemClock,
      metrics,
      version: '9.9.9-test',
    });
    try {
      await uplink.start();
      const lastError = await waitFor(() => uplink.status().lastError ?? undefined, 'a failed connect');
      assert.equal(lastError.kind, 'connection-refused');
      assert.match(lastError.message, new RegExp(`mqtt://127\\.0\\.0\\.1:${port}`), 'the broker is still named');
      const status = JSON.stringify(uplink.status());
      assert.equal(uplink.status().broker, `mqtt://127.0.0.1:${port}`);
      assert.ok(!status.includes('s3cr3t-pw') && !status.includes('fieldgate:'), status);
    } finally {
      await uplink.stop();
      await buffer.stop();
      await rm(dir, { recursive: true, force: true });
    }
    assert.match(logged, /uplink starting/);
    assert.match(logged, /connecting WITHOUT TLS/);
    assert.ok(!logged.includes('s3cr3t-pw'), 'the password is in the log');
  });
});
