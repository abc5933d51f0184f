import { connect } from 'node:tls';
import { createMetricsRegistry } from '../../main/metrics/registry.js';
import type { TlsCredentials } from '../../main/shared/tls.js';
import { TlsSessionCache } from '../../main/uplink/tls-session-cache.js';
import { median } from './measure.js';

export interface HandshakeFigures {
  /** Median wall time from connect to secureConnect. */
  ms: number;
  /** Client CPU (user + system) per handshake, median. */
  cpuMs: number;
  /** How many of the handshakes the server resumed (isSessionReused()). */
  resumed: number;
  count: number;
}

/**
 * Mutual-TLS handshakes against the broker with the uplink's TLS options, each on a fresh
 * connection: `full` offers no session and builds its secure context from the PEM files (the cost
 * of a first connect); `resumed` reuses the secure context and offers the ticket the previous
 * connection received, through the uplink's TlsSessionCache (the cost of a reconnect).
 */
export async function tlsHandshakes(options: { url: string; credentials: TlsCredentials; mode: 'full' | 'resumed'; count: number }): Promise<HandshakeFigures> {
  const { hostname, port } = new URL(options.url.replace(/^mqtts:/, 'https:'));
  const cache = new TlsSessionCache(createMetricsRegistry({ processMetrics: false }));
  const walls: number[] = [];
  const cpus: number[] = [];
  let resumed = 0;
  // One extra, unmeasured handshake first: it warms up the code and, when resuming, fetches the first ticket.
  for (let i = 0; i <= options.count; i++) {
    const slot = cache.slot(options.url, options.credentials, 'TLSv1.2');
    const session = options.mode === 'resumed' ? slot.session : undefined;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    // A full handshake parses the PEM files too, as every connect did before the cache.
    const secureContext = options.mode === 'resumed' ? { secureContext: slot.secureContext } : { minVersion: 'TLSv1.2' as const, ...options.credentials };
    const socket = connect({ host: hostname, port: Number(port), servername: hostname, rejectUnauthorized: true, ...secureContext, ...(session && { session }) });
    slot.watch(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const wall = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const reused = socket.isSessionReused();
    // TLS 1.3 tickets arrive after the handshake: wait for one before closing.
    await new Promise((resolve) => {
      socket.once('session', resolve);
      setTimeout(resolve, 1_000);
    });
    socket.destroy();
    if (i === 0) continue;
    walls.push(wall);
    cpus.push((cpu.user + cpu.system) / 1000);
    if (reused) resumed++;
  }
  return { ms: median(walls), cpuMs: median(cpus), resumed, count: options.count };
}
