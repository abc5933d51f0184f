/**
 * The client's private key for TLS: PEM from a file, or a key that stays in a PKCS#11 token and
 * that OpenSSL reaches through an engine (Node's `privateKeyEngine` / `privateKeyIdentifier`).
 */
export type TlsKey = { key: string } | { privateKeyEngine: string; privateKeyIdentifier: string };

/** Material for a mutual-TLS connection. Read fresh at every connect so a rotated identity is picked up. */
export type TlsCredentials = { ca: string; cert: string } & TlsKey;

export type TlsCredentialProvider = () => Promise<TlsCredentials>;
