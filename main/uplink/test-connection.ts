import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudBackend } from '../api/backends.js';
import { splitPemCertificates } from '../identity/certificate.js';
import type { Logger } from '../log/logger.js';
import { writeFileDurably } from '../files/durable.js';
import { ApiError, type MethodResult, type ParsedInput } from '../shared/api.js';
import type { Clock } from '../shared/clock.js';
import type { CloudConfig } from '../shared/config/cloud.js';
import type { TlsCredentialProvider, TlsKey } from '../shared/tls.js';
import { ClientOptionsBuilder } from './client-options.js';
import { fileCredentialProvider, readCredentialFile } from './credentials.js';
import { UplinkError, classifyConnectError, type UplinkErrorKind } from './errors.js';
import { createWire, profileLimits } from './profiles/index.js';
import { openSession, type Session } from './session.js';

/** What the technician can do about each kind of failure, shown beside the exact message. */
export const UPLINK_ERROR_HINTS: Record<UplinkErrorKind, string> = {
  'unknown-ca': 'upload the CA that signed the broker certificate (ask the broker operator for its CA PEM) and test again',
  'hostname-mismatch': 'use the host name the broker certificate was issued for in the URL (not its IP address, unless the certificate lists it)',
  'server-cert-expired': 'the broker certificate has expired: ask its operator to renew it, or check the box clock (is NTP working?)',
  'server-cert-not-yet-valid': 'check the box clock (is NTP working?); the broker certificate is not valid yet',
  'client-cert-rejected': 'the broker does not accept this gateway certificate: have the CSR signed by the CA the broker trusts, then import the certificate',
  'client-cert-expired': 'renew the gateway certificate (create a CSR, have it signed, import it), or check the box clock',
  'client-cert-not-yet-valid': 'check the box clock (is NTP working?); the gateway certificate is not valid yet',
  'bad-credentials': 'the certificate or key file cannot be used: check that both exist, are PEM and belong together (an access token file: that it exists, is not empty and is chmod 600)',
  'hardware-key-unavailable': 'the token holding the device key cannot be used: fix what the message names (PIN file, token, library), then restart fieldgate',
  'not-authorized': 'the broker refused this gateway: allow its certificate CN on the broker, and make it match gateway.id (with cloud.accessTokenFile: put the gateway device\'s current access token in the file)',
  'publish-not-authorized': 'the broker ACL does not allow this gateway to publish: allow topics under its certificate CN',
  'publish-rejected': 'the broker refused a message: check its limits (message size, quotas)',
  'packet-too-large': "a packet exceeded the broker's max_packet_size: raise that limit, or lower cloud.batch.maxBytes below it",
  'identity-mismatch': 'the certificate CN differs from gateway.id: set gateway.id to the CN, or issue a certificate for gateway.id',
  'connection-refused': 'nothing listens at that host and port: check the URL (port 8883 for mqtts) and that the broker runs',
  dns: 'the host name does not resolve: check the URL and the box DNS settings',
  timeout: 'no answer in time: check the network, firewall and the port in the URL',
  'connection-lost': 'the broker closed the connection: check its log; it may refuse the certificate or the protocol version',
  tls: 'the TLS handshake failed: check that the URL port speaks TLS (mqtts) and the broker TLS settings',
  protocol: 'the broker refused the MQTT session: try cloud.protocolVersion 4 if it does not speak MQTT 5',
  other: 'see the message; the gateway log has the details',
};

export interface CloudTesterDeps {
  gatewayId: string;
  /**
   * The on-box identity, used when the settings give no certFile/keyFile: its certificate file,
   * and its key for that certificate as the key store hands it to TLS (PEM, or a reference into a
   * PKCS#11 token, checked usable).
   */
  onBoxIdentity: { certFile: string; key: (certPem: string) => TlsKey } | undefined;
  /** Uploaded CA files go here (`<gateway.dataDir>/cloud-ca`). */
  caDir: string;
  log: Logger;
  clock: Clock;
}

/**
 * Setup checks for the cloud settings: `test` makes one MQTT connection with the proposed settings
 * (nothing saved, no will, its own client id so the running uplink is not taken over, except on a
 * platform that takes only the device's own id, such as Azure IoT Hub) and says
 * exactly why it failed; `uploadCa` checks and stores a CA file the settings can then name.
 */
export class CloudTester implements CloudBackend {
  constructor(private readonly deps: CloudTesterDeps) {}

  async test(input: ParsedInput<'testCloud'>): Promise<MethodResult<'testCloud'>> {
    const settings = input.settings;
    const failure = (error: UplinkError): MethodResult<'testCloud'> => {
      this.deps.log.info({ broker: settings.url, kind: error.kind, code: error.code }, 'cloud test failed');
      return { ok: false, kind: error.kind, message: error.message, hint: UPLINK_ERROR_HINTS[error.kind] };
    };
    const wire = createWire(settings, this.deps.gatewayId, this.deps.log);
    const limits = profileLimits(settings);
    const builder = new ClientOptionsBuilder({ config: settings, gatewayId: this.deps.gatewayId, credentials: this.credentials(settings), wire, log: this.deps.log });
    const context = () => ({ url: settings.url, gatewayId: this.deps.gatewayId, now: this.deps.clock.now(), ...(builder.cert && { cert: builder.cert }) });
    let session: Session;
    try {
      const options = await builder.build(undefined);
      session = await openSession({
        url: settings.url,
        options: limits.oneConnectionPerClientId ? options : { ...options, clientId: `${options.clientId ?? this.deps.gatewayId}-test-${randomBytes(3).toString('hex')}` },
        protocolVersion: settings.protocolVersion,
        inFlightWindow: 1,
        clock: this.deps.clock,
        context,
        onMessage: () => {},
        signal: new AbortController().signal,
      });
    } catch (error) {
      return failure(classifyConnectError(error, context()));
    }
    await new Promise<void>((resolve) => session.client.end(false, {}, () => resolve()));
    const cn = builder.cert?.commonName;
    if (cn !== undefined && cn !== this.deps.gatewayId && limits.cnIsIdentity) {
      return failure(new UplinkError('identity-mismatch', `connected, but the client certificate's CN "${cn}" differs from gateway.id "${this.deps.gatewayId}": a broker that confines gateways to their CN will refuse every publish`));
    }
    this.deps.log.info({ broker: settings.url }, 'cloud test connected');
    const as = cn !== undefined ? ` as "${cn}"` : settings.accessTokenFile !== undefined ? ' with the access token in cloud.accessTokenFile' : ' without TLS';
    const takenOver = limits.oneConnectionPerClientId
      ? `; the platform keeps one connection per device, so this test connected as "${this.deps.gatewayId}" and took over the running uplink's connection, if any: it reconnects by itself`
      : '';
    return { ok: true, broker: settings.url, message: `connected to ${settings.url}${as}; nothing was saved${takenOver}` };
  }

  async uploadCa(input: ParsedInput<'uploadCa'>): Promise<MethodResult<'uploadCa'>> {
    if (/PRIVATE KEY-----/.test(input.pem)) {
      throw new ApiError('bad-request', 'this PEM holds a private key; a CA upload must hold certificates only', { field: 'pem', hint: 'upload the CA certificate (ca.crt), never a key' });
    }
    const blocks = splitPemCertificates(input.pem);
    if (blocks.length === 0) {
      throw new ApiError('bad-request', 'no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")', { field: 'pem' });
    }
    const subjects = blocks.map((block, index) => {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(block);
      } catch {
        throw new ApiError('bad-request', `certificate ${index + 1} of the upload cannot be parsed`, { field: 'pem' });
      }
      if (!certificate.ca) {
        throw new ApiError('bad-request', `certificate ${index + 1} (${certificate.subject.replaceAll('\n', ', ')}) is not a CA certificate`, {
          field: 'pem',
          hint: 'upload the CA that signed the broker certificate, not the broker certificate itself',
        });
      }
      return certificate.subject.replaceAll('\n', ', ');
    });
    const text = `${blocks.join('\n')}\n`;
    // Named by content: the running uplink may be using an earlier upload until the new settings are saved.
    const caFile = join(this.deps.caDir, `ca-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.pem`);
    await mkdir(this.deps.caDir, { recursive: true, mode: 0o755 });
    await writeFileDurably(caFile, text, 0o644);
    await chmod(caFile, 0o644);
    this.deps.log.info({ caFile, subjects }, 'cloud CA uploaded');
    return { caFile, subjects };
  }

  private credentials(settings: CloudConfig): TlsCredentialProvider {
    const caFile = settings.caFile ?? '';
    if (settings.certFile !== undefined && settings.keyFile !== undefined) {
      return fileCredentialProvider({ caFile, certFile: settings.certFile, keyFile: settings.keyFile });
    }
    const onBox = this.deps.onBoxIdentity;
    if (onBox === undefined || !existsSync(onBox.certFile)) {
      return async () => {
        throw new UplinkError('bad-credentials', 'the gateway has no certificate yet: create a CSR, have it signed and import the certificate, or give certFile and keyFile');
      };
    }
    return async () => {
      const cert = await readCredentialFile('the on-box certificate', onBox.certFile);
      return { ca: await readCredentialFile('cloud.caFile', caFile), cert, ...onBox.key(cert) };
    };
  }
}
