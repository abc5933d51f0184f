/** Why the uplink could not connect or publish; each kind has its own message and counter (README, Cloud uplink → Errors). */
export const UPLINK_ERROR_KINDS = [
  'unknown-ca',
  'hostname-mismatch',
  'server-cert-expired',
  'server-cert-not-yet-valid',
  'client-cert-rejected',
  'client-cert-expired',
  'client-cert-not-yet-valid',
  'bad-credentials',
  'hardware-key-unavailable',
  'not-authorized',
  'publish-not-authorized',
  'publish-rejected',
  'packet-too-large',
  'identity-mismatch',
  'connection-refused',
  'dns',
  'timeout',
  'connection-lost',
  'tls',
  'protocol',
  'other',
] as const;

export type UplinkErrorKind = (typeof UPLINK_ERROR_KINDS)[number];
