import { resolve } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import { isTlsUrl } from '../shared/config/cloud.js';
import type { Config } from '../shared/config/schema.js';
import { namespaced } from '../log/logger.js';
import type { IdentityAlertSink } from './alerts.js';
import { IdentityCredentials } from './credentials.js';
import { ExpiryMonitor } from './expiry-monitor.js';
import { identityStoreFromConfig } from './from-config.js';
import { keyStoreGauge } from './metrics.js';
import { CertificateRotation, type RotationChannel } from './rotation.js';
import type { IdentityStore } from './store.js';

export interface DeviceIdentityDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  onAlert?: IdentityAlertSink;
}

/** The on-box identity's parts, for the composition root: the uplink's credentials and two components. */
export interface DeviceIdentity {
  store: IdentityStore;
  /** Pass `credentials.provide` to the uplink. */
  credentials: IdentityCredentials;
  /** Start before the uplink: it diagnoses a broken identity (permissions, clock, expiry) first. */
  monitor: ExpiryMonitor;
  /** Start after the uplink, which it uses to send the CSR, receive the certificate and reconnect. */
  rotation(channel: RotationChannel): CertificateRotation;
}

/**
 * True when the uplink should use the on-box identity: the broker URL is TLS and `cloud.certFile`/`cloud.keyFile` are not
 * given, or name the identity folder's own `cert.pem`/`key.pem`. Other files are an externally
 * managed identity, which the gateway uses as is and never rotates.
 */
export function usesOnBoxIdentity(config: Config, store: IdentityStore): boolean {
  // With an access token (cloud.profile thingsboard) the gateway presents no client certificate.
  if (!config.cloud || !isTlsUrl(config.cloud.url) || config.cloud.accessTokenFile !== undefined) return false;
  const { certFile, keyFile } = config.cloud;
  if (!certFile && !keyFile) return true;
  return certFile !== undefined && keyFile !== undefined && resolve(certFile) === resolve(store.paths.cert) && resolve(keyFile) === resolve(store.paths.key);
}

export function createDeviceIdentity(deps: DeviceIdentityDeps): DeviceIdentity {
  const log = namespaced(deps.log, 'identity');
  const store = identityStoreFromConfig(deps.config);
  const keyStore = keyStoreGauge(deps.metrics);
  keyStore.reset();
  keyStore.set({ kind: store.keyStore.summary.kind }, 1);
  const credentials = new IdentityCredentials({
    store,
    clock: deps.clock,
    ...(deps.config.identity.pkcs11 && { hardwareRetryMs: deps.config.identity.pkcs11.retryIntervalMs }),
    ...(deps.onAlert && { onAlert: deps.onAlert }),
  });
  const monitor = new ExpiryMonitor({
    store,
    alertDaysLeft: deps.config.identity.alertDaysLeft,
    checkIntervalMs: deps.config.identity.checkIntervalMs,
    metrics: deps.metrics,
    log,
    clock: deps.clock,
    onAlert: deps.onAlert,
  });
  return {
    store,
    credentials,
    monitor,
    rotation: (channel) =>
      new CertificateRotation({
        store,
        credentials,
        channel,
        gatewayId: deps.config.gateway.id,
        config: deps.config.identity.rotation,
        checkIntervalMs: deps.config.identity.checkIntervalMs,
        metrics: deps.metrics,
        log,
        clock: deps.clock,
        onAlert: deps.onAlert,
        onRotated: () => monitor.check(),
      }),
  };
}
