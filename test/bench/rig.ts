import { SqliteBuffer } from '../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../main/log/logger.js';
import { createMetricsRegistry } from '../../main/metrics/registry.js';
import { systemClock } from '../../main/shared/clock.js';
import { bufferSchema } from '../../main/shared/config/buffer.js';
import { cloudSchema } from '../../main/shared/config/cloud.js';
import type { TlsCredentials } from '../../main/shared/tls.js';
import { Uplink } from '../../main/uplink/uplink.js';

export interface BenchTarget {
  url: string;
  credentials: TlsCredentials;
}

/** The production pieces as the gateway wires them: SqliteBuffer (synchronous FULL) and Uplink. */
export function benchGateway(options: { file: string; target: BenchTarget; gatewayId: string; maxReadings: number; inFlight: number }) {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const buffer = new SqliteBuffer({
    file: options.file,
    options: bufferSchema.parse({ maxRows: 5_000_000, maxBytes: 4 * 1024 ** 3 }),
    log: silentLogger,
    clock: systemClock,
    metrics,
  });
  const uplink = new Uplink({
    buffer,
    config: cloudSchema.parse({
      url: options.target.url,
      caFile: 'ca.pem',
      certFile: 'cert.pem',
      keyFile: 'key.pem',
      inFlight: options.inFlight,
      batch: { maxReadings: options.maxReadings, maxBytes: 1024 * 1024 },
      backoff: { initialMs: 100, maxMs: 500 },
    }),
    gatewayId: options.gatewayId,
    credentials: async () => options.target.credentials,
    log: silentLogger,
    clock: systemClock,
    metrics,
    version: 'bench',
  });
  return { buffer, uplink };
}

export const sampleValues = (i: number) => ({
  temperature: { value: 20 + (i % 100) / 10, unit: '°C' },
  humidity: { value: 40 + (i % 50) / 10, unit: '%' },
});
