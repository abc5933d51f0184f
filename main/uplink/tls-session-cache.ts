import { createHash } from 'node:crypto';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { Counter } from 'prom-client';
import type { Registry } from '../metrics/registry.js';
import type { TlsCredentials } from '../shared/tls.js';

/** The TLS state to reuse on one connect, and where the broker's new tickets for it go. */
export interface TlsSessionSlot {
  /** The parsed CA, certificate and key (built once per credentials, not at every connect). */
  readonly secureContext: SecureContext;
  /** A ticket (TLS 1.2 session ticket or TLS 1.3 PSK) from the last connection with the same broker and credentials. */
  readonly session: Buffer | undefined;
  /** Keeps the tickets the broker issues on this connection's socket and counts its handshake as full or resumed. */
  watch(stream: unknown): void;
}

/**
 * Remembers the last TLS session ticket, in memory only, so a reconnect to the same broker skips
 * the full (certificate-verifying) handshake, and the secure context, so a reconnect does not
 * parse the PEM files again. Both are keyed by the broker URL and a fingerprint of the CA, the
 * client certificate and its key: after a certificate rotation or a CA change the next connect
 * builds a new context and does a full handshake.
 */
export class TlsSessionCache {
  private key: string | undefined;
  private ticket: Buffer | undefined;
  private secureContext: SecureContext | undefined;
  private readonly handshakes: Counter<'resumed'>;

  constructor(registry: Registry) {
    this.handshakes = new Counter({
      name: 'fieldgate_uplink_tls_handshakes_total',
      help: 'TLS handshakes with the broker; resumed="true" reused a session ticket from the previous connection',
      labelNames: ['resumed'],
      registers: [registry],
    });
  }

  /** `minVersion` belongs to the secure context, so it is given here. `{ ca }` alone: no client certificate (an access token authenticates). */
  slot(url: string, credentials: TlsCredentials | { ca: string }, minVersion: 'TLSv1.2' | 'TLSv1.3'): TlsSessionSlot {
    const { ca, ...client } = credentials;
    // A PEM key, or the engine and identifier of a key that stays in a token.
    const clientText = !('cert' in client) ? '' : `${client.cert}\0${'key' in client ? client.key : `${client.privateKeyEngine}\0${client.privateKeyIdentifier}`}`;
    const key = createHash('sha256').update(`${url}\0${minVersion}\0${ca}\0${clientText}`).digest('hex');
    if (key !== this.key || !this.secureContext) {
      this.key = key;
      this.ticket = undefined;
      this.secureContext = createSecureContext({ minVersion, ca, ...client });
    }
    return {
      secureContext: this.secureContext,
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
