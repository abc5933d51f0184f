import { createHash } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import { Counter } from 'prom-client';
import type { Registry } from '../metrics/registry.js';
import type { TlsCredentials } from '../shared/tls.js';

/** The TLS session to offer on one connect, and where the broker's new tickets for it go. */
export interface TlsSessionSlot {
  /** A ticket (TLS 1.2 session ticket or TLS 1.3 PSK) from the last connection with the same broker and credentials. */
  readonly session: Buffer | undefined;
  /** Keeps the tickets the broker issues on this connection's socket and counts its handshake as full or resumed. */
  watch(stream: unknown): void;
}

/**
 * Remembers the last TLS session ticket, in memory only, so a reconnect to the same broker skips
 * the full (certificate-verifying) handshake. The ticket is keyed by the broker URL and a
 * fingerprint of the CA and the client certificate: after a certificate rotation or a CA change
 * the next connect does a full handshake.
 */
export class TlsSessionCache {
  private key: string | undefined;
  private ticket: Buffer | undefined;
  private readonly handshakes: Counter<'resumed'>;

  constructor(registry: Registry) {
    this.handshakes = new Counter({
      name: 'fieldgate_uplink_tls_handshakes_total',
      help: 'TLS handshakes with the broker; resumed="true" reused a session ticket from the previous connection',
      labelNames: ['resumed'],
      registers: [registry],
    });
  }

  slot(url: string, credentials: Pick<TlsCredentials, 'ca' | 'cert'>): TlsSessionSlot {
    const key = createHash('sha256').update(url).update('\0').update(credentials.ca).update('\0').update(credentials.cert).digest('hex');
    if (key !== this.key) {
      this.key = key;
      this.ticket = undefined;
    }
    return {
      session: this.ticket,
      watch: (stream) => {
        if (!(stream instanceof TLSSocket)) return;
        stream.on('session', (ticket: Buffer) => {
          if (this.key === key) this.ticket = ticket;
        });
        stream.once('secureConnect', () => this.handshakes.inc({ resumed: String(stream.isSessionReused()) }));
      },
    };
  }
}
