import type { UPLINK_ERROR_KINDS } from '../main/shared/api.js';

type UplinkErrorKind = (typeof UPLINK_ERROR_KINDS)[number];

/** Why the cloud is down, in words a technician can act on (the API adds the exact fix hint). */
export const UPLINK_ERROR_WORDS: Record<UplinkErrorKind, string> = {
  'unknown-ca': "The broker's certificate is signed by a CA this gateway does not trust.",
  'hostname-mismatch': "The broker's certificate is for a different host name than the broker URL.",
  'server-cert-expired': "The broker's certificate has expired.",
  'server-cert-not-yet-valid': "The broker's certificate is not valid yet (check the gateway's clock).",
  'client-cert-rejected': "The broker refused this gateway's certificate.",
  'client-cert-expired': "This gateway's certificate has expired.",
  'client-cert-not-yet-valid': "This gateway's certificate is not valid yet (check the clock).",
  'bad-credentials': "This gateway's certificate or key file cannot be read, or they do not belong together.",
  'hardware-key-unavailable': 'The hardware token holding this gateway\'s key cannot be used (PIN, token or its library); the gateway waits before trying it again.',
  'not-authorized': 'The broker does not allow this gateway to connect.',
  'publish-not-authorized': 'The broker does not allow this gateway to publish on its topics.',
  'publish-rejected': 'The broker rejected a publish.',
  'identity-mismatch': "The certificate's name does not match the gateway id.",
  'connection-refused': 'Nothing answers at the broker address and port.',
  dns: 'The broker host name cannot be found.',
  timeout: 'The broker did not answer in time.',
  'connection-lost': 'The connection to the broker dropped.',
  'packet-too-large': 'The broker refused a message as larger than its packet size limit.',
  tls: 'The secure connection to the broker failed.',
  protocol: 'The broker answered in an unexpected way.',
  other: 'The connection to the broker failed.',
};
