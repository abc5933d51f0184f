import type { TcpSocketConnectOpts } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { IClientOptions } from 'mqtt';
import type { Logger } from '../log/logger.js';
import { OWN_MAXIMUM_PACKET_SIZE, isTlsUrl, withoutUserinfo, type CloudConfig } from '../shared/config/cloud.js';
import type { TlsCredentialProvider } from '../shared/tls.js';
import { certFacts, credentialError, readCredentialFile } from './credentials.js';
import { UplinkError, type ClientCertFacts } from './errors.js';
import { profileLimits, type ProfileLimits } from './profiles/index.js';
import type { OutboundMessage, PlatformWire } from './profiles/wire.js';
import type { TlsSessionCache, TlsSessionSlot } from './tls-session-cache.js';

export interface ClientOptionsDeps {
  config: CloudConfig;
  gatewayId: string;
  credentials: TlsCredentialProvider;
  /** The cloud profile's client id and user name. */
  wire: PlatformWire;
  log: Logger;
  /** Where the last connection's TLS session ticket is kept for a resumed handshake. */
  tlsSessions?: TlsSessionCache;
}

/**
 * Builds the mqtt.js options for each connect: freshly read TLS credentials (so a rotated
 * certificate is picked up), the profile's client id and user name, the offline will, and the
 * check that the certificate's CN is gateway.id.
 */
export class ClientOptionsBuilder {
  /** Facts about the client certificate loaded by the last build; undefined without TLS. */
  cert: ClientCertFacts | undefined;
  /** The TLS session offered by the last build; its watch() must see the connection's socket. */
  tlsSession: TlsSessionSlot | undefined;

  constructor(private readonly deps: ClientOptionsDeps) {}

  /** `will`: the offline status; none for a test connection, whose unclean end must not mark the gateway offline. */
  async build(will: OutboundMessage | undefined): Promise<IClientOptions> {
    const { config, wire } = this.deps;
    const secure = isTlsUrl(config.url);
    const options: IClientOptions = {
      protocolVersion: config.protocolVersion,
      ...(await wire.connectOptions()),
      clean: true,
      keepalive: config.keepaliveSeconds,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      ...(will && { will: { topic: will.topic, payload: will.payload, qos: 1, retain: will.retain ?? false, ...(will.properties && { properties: will.properties }) } }),
      // The broker must not send us larger packets, so it cannot make the gateway buffer huge ones.
      ...(config.protocolVersion === 5 ? { properties: { maximumPacketSize: OWN_MAXIMUM_PACKET_SIZE } } : {}),
    };
    // Small QoS 1 messages and their PUBACKs should not wait for Nagle's algorithm.
    const noNagle: Pick<TcpSocketConnectOpts, 'noDelay'> = { noDelay: true };
    if (!secure) {
      this.cert = undefined;
      this.tlsSession = undefined;
      this.deps.log.warn({ broker: withoutUserinfo(config.url) }, 'uplink: connecting WITHOUT TLS (cloud.allowInsecure is true): readings and the device identity travel in plaintext');
      return { ...options, ...noNagle };
    }
    const profile = profileLimits(config);
    if (profile.clientCertificate === false) return { ...options, ...noNagle, ...(await this.serverOnlyTls(profile)) };
    const credentials = await this.deps.credentials().catch((error: unknown) => {
      throw credentialError(error);
    });
    this.cert = certFacts(credentials.cert);
    const cn = this.cert.commonName;
    if (cn !== undefined && cn !== this.deps.gatewayId && profile.cnIsIdentity) {
      const message = `the client certificate's CN "${cn}" differs from gateway.id "${this.deps.gatewayId}": a broker that confines gateways to their CN will refuse every publish`;
      // MQTT 3.1.1 cannot report refused publishes, so readings would be acked and lost: do not send.
      if (config.protocolVersion === 4) throw new UplinkError('identity-mismatch', `${message}; with protocolVersion 4 the uplink does not send at all`);
      this.deps.log.warn({ certificateCn: cn, gatewayId: this.deps.gatewayId }, `uplink: ${message}`);
    }
    this.tlsSession = this.deps.tlsSessions?.slot(config.url, credentials, 'TLSv1.2');
    // TLS >= 1.2 and hostname verification (rejectUnauthorized runs checkServerIdentity).
    const { ca, cert, ...key } = credentials;
    // `key` is PEM, or a token key reached through the OpenSSL engine (identity.keyStore pkcs11).
    const tlsOptions = {
      minVersion: 'TLSv1.2',
      ca,
      cert,
      ...key,
      rejectUnauthorized: true,
      ...profile.tls,
      ...(this.tlsSession && { secureContext: this.tlsSession.secureContext }),
      ...(this.tlsSession?.session && { session: this.tlsSession.session }),
    } satisfies ConnectionOptions;
    // For wss:// mqtt.js forwards only some TLS options to the WebSocket (not minVersion): give it all of them.
    const transport = config.url.startsWith('wss:') ? { wsOptions: tlsOptions } : noNagle;
    return { ...options, ...transport, ...tlsOptions };
  }

  /** TLS that only checks the server (the gateway authenticates by its MQTT user name): the CA read fresh from cloud.caFile. */
  private async serverOnlyTls(profile: ProfileLimits): Promise<Pick<ConnectionOptions, 'minVersion' | 'rejectUnauthorized' | 'secureContext' | 'session'> & { ca: string; ALPNProtocols?: string[] }> {
    this.cert = undefined;
    const ca = await readCredentialFile('cloud.caFile', this.deps.config.caFile ?? '');
    this.tlsSession = this.deps.tlsSessions?.slot(this.deps.config.url, { ca }, 'TLSv1.2');
    return {
      minVersion: 'TLSv1.2',
      ca,
      rejectUnauthorized: true,
      ...profile.tls,
      ...(this.tlsSession && { secureContext: this.tlsSession.secureContext }),
      ...(this.tlsSession?.session && { session: this.tlsSession.session }),
    };
  }
}
