import type { BufferStats } from '../buffer/types.js';
import type { CertificateInfo } from '../identity/certificate.js';
import { daysLeft, validityAt } from '../identity/lifetime.js';
import type { GatewayStatus, KeyStoreView } from '../shared/api.js';
import type { ComponentHealth } from '../shared/lifecycle.js';
import type { Source } from '../shared/source.js';
import type { UplinkStatus } from '../uplink/uplink.js';
import { FIELDGATE_VERSION } from '../shared/version.js';
import { UPLINK_ERROR_HINTS } from '../uplink/test-connection.js';
import type { StatusBackend } from './backends.js';

/** The uplink's status with what to do about its last error. */
function withHint(uplink: UplinkStatus | undefined): GatewayStatus['uplink'] {
  if (!uplink) return null;
  const { lastError } = uplink;
  return { ...uplink, lastError: lastError ? { ...lastError, hint: UPLINK_ERROR_HINTS[lastError.kind] } : null };
}

export interface StatusBackendDeps {
  gatewayId: string;
  startedAt: Date;
  components: () => ComponentHealth[];
  sources: () => readonly Source[];
  buffer: (now: number) => BufferStats;
  /** Undefined when no cloud is configured. */
  uplink: () => UplinkStatus | undefined;
  /** Active alerts and their counts by severity. */
  alerts: () => GatewayStatus['alerts'];
  /** The client certificate, or undefined when there is none yet. */
  certificate: () => { info: CertificateInfo; managed: 'on-box' | 'external'; rotationDueAt?: number } | undefined;
  /** Where the on-box identity's key lives. */
  keyStore: KeyStoreView;
  now: () => number;
}

/** Builds `status` from the running parts; each call reads them afresh. */
export function createStatusBackend(deps: StatusBackendDeps): StatusBackend {
  return {
    gatewayId: deps.gatewayId,
    version: FIELDGATE_VERSION,
    keyStore: deps.keyStore,
    status(): GatewayStatus {
      const now = deps.now();
      const certificate = deps.certificate();
      return {
        gatewayId: deps.gatewayId,
        version: FIELDGATE_VERSION,
        startedAt: deps.startedAt.toISOString(),
        components: deps.components(),
        sensors: deps.sources().flatMap((source) => source.sensors()),
        buffer: deps.buffer(now),
        uplink: withHint(deps.uplink()),
        identity: certificate
          ? {
              managed: certificate.managed,
              ...(certificate.managed === 'on-box' && { keyStore: deps.keyStore }),
              subject: certificate.info.subject,
              notAfter: certificate.info.notAfter.toISOString(),
              daysLeft: daysLeft(certificate.info, now),
              validity: validityAt(certificate.info, now),
              ...(certificate.rotationDueAt === undefined ? {} : { rotationDueAt: new Date(certificate.rotationDueAt).toISOString() }),
            }
          : null,
        alerts: deps.alerts(),
      };
    },
  };
}
