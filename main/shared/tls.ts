/** PEM material for a mutual-TLS connection. Read fresh at every connect so a rotated identity is picked up. */
export interface TlsCredentials {
  ca: string;
  cert: string;
  key: string;
}

export type TlsCredentialProvider = () => Promise<TlsCredentials>;
