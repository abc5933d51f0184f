import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBuffer } from '../../../../main/buffer/sqlite-buffer.js';
import { silentLogger, type Logger } from '../../../../main/log/logger.js';
import { createMetricsRegistry, type Registry } from '../../../../main/metrics/registry.js';
import { systemClock, type Clock } from '../../../../main/shared/clock.js';
import { bufferSchema } from '../../../../main/shared/config/buffer.js';
import type { CloudConfig } from '../../../../main/shared/config/cloud.js';
import type { TlsCredentialProvider } from '../../../../main/shared/tls.js';
import { Uplink } from '../../../../main/uplink/uplink.js';

export interface ProfileGateway {
  buffer: SqliteBuffer;
  uplink: Uplink;
  metrics: Registry;
  /** Stops the uplink and the buffer and removes the buffer's folder; once only, however often it is called. */
  stop(): Promise<void>;
}

/** A gateway's real SQLite buffer and its uplink to a platform-like broker, started. */
export async function startProfileGateway(options: {
  config: CloudConfig;
  gatewayId: string;
  credentials: TlsCredentialProvider;
  log?: Logger;
  clock?: Clock;
  /** Runs on the started buffer before the uplink starts (e.g. readings waiting at connect). */
  before?: (buffer: SqliteBuffer) => Promise<void>;
}): Promise<ProfileGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-profile-'));
  const metrics = createMetricsRegistry({ processMetrics: false });
  const buffer = new SqliteBuffer({ file: join(dir, 'buffer.db'), options: bufferSchema.parse({ commitWindowMs: 2 }), log: silentLogger, clock: systemClock, metrics });
  await buffer.start(new AbortController().signal);
  await options.before?.(buffer);
  const uplink = new Uplink({
    buffer,
    config: options.config,
    gatewayId: options.gatewayId,
    credentials: options.credentials,
    log: options.log ?? silentLogger,
    clock: options.clock ?? systemClock,
    metrics,
    version: '9.9.9-test',
  });
  await uplink.start();
  let stopped = false;
  return {
    buffer,
    uplink,
    metrics,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await uplink.stop();
      await buffer.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
