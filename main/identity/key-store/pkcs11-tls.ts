import { createSecureContext } from 'node:tls';
import type { Pkcs11Config } from '../../shared/config/identity.js';
import type { TlsKey } from '../../shared/tls.js';
import { HardwareKeyError, IdentityError } from '../errors.js';
import { assertModuleFile, pinLocked, pinRefused, readPin, tokenName } from './pkcs11-token.js';

/**
 * The one place that knows how a token key reaches Node's TLS: OpenSSL's `pkcs11` engine (libp11),
 * named by Node's `privateKeyEngine` with an RFC 7512 URI as `privateKeyIdentifier`. Node has no
 * API for OpenSSL 3 provider keys yet; when it does, a provider route replaces this module alone.
 */
const ENGINE_ID = 'pkcs11';

/** Where Debian's libengine-pkcs11-openssl puts the engine, by the architecture Node runs on. */
const DEBIAN_ENGINE_DIRS: Partial<Record<NodeJS.Architecture, string>> = {
  x64: '/usr/lib/x86_64-linux-gnu/engines-3',
  arm64: '/usr/lib/aarch64-linux-gnu/engines-3',
  arm: '/usr/lib/arm-linux-gnueabihf/engines-3',
};

/** What the engine needs to find the key: the token (label and serial, as recorded when the key was made) and the key's CKA_ID. */
export interface TokenKeyLocation {
  tokenLabel: string;
  tokenSerial: string;
  idHex: string;
}

function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
}

/** RFC 7512 URI of the private key. The PIN is referenced by file (`pin-source`), so it never appears in a URI the engine may print. */
function keyUri(config: Pkcs11Config, location: TokenKeyLocation): string {
  const path = [`token=${percentEncode(location.tokenLabel)}`, `serial=${percentEncode(location.tokenSerial)}`, `id=${location.idHex.replace(/../g, '%$&')}`, 'type=private'];
  return `pkcs11:${path.join(';')}?pin-source=${encodeURI(config.pinFile)}`;
}

/**
 * Node's OpenSSL does not search Debian's engine folder by itself. OpenSSL reads OPENSSL_ENGINES
 * and libp11 reads PKCS11_MODULE_PATH when the engine is first loaded, i.e. at the first TLS
 * connect, so setting them here (not in the unit) is early enough; a later change of
 * identity.pkcs11.module needs a restart. An OPENSSL_ENGINES or OPENSSL_CONF the operator set wins.
 */
function prepareEngine(config: Pkcs11Config): void {
  if (!process.versions.openssl) {
    throw new HardwareKeyError('this runtime has no OpenSSL engine support (Electron uses BoringSSL): run the headless service with Node for identity.keyStore pkcs11');
  }
  const dir = DEBIAN_ENGINE_DIRS[process.arch];
  if (process.env.OPENSSL_ENGINES === undefined && dir !== undefined) process.env.OPENSSL_ENGINES = dir;
  process.env.PKCS11_MODULE_PATH ??= config.module;
}

export function engineKey(config: Pkcs11Config, location: TokenKeyLocation): TlsKey {
  return { privateKeyEngine: ENGINE_ID, privateKeyIdentifier: keyUri(config, location) };
}

function engineError(error: unknown, config: Pkcs11Config): IdentityError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_OSSL_PIN_INCORRECT' || /PIN incorrect/i.test(message)) return pinRefused(config);
  if (/PIN locked/i.test(message)) return pinLocked(config);
  if (/Unable to load PKCS#11 module/i.test(message)) {
    return new HardwareKeyError(`the OpenSSL PKCS#11 engine cannot load identity.pkcs11.module "${config.module}": install the token's library or fix the path, then restart fieldgate`);
  }
  if (/object not found|private key was not found/i.test(message) || code === 'ERR_OSSL_USER_OBJECT_NOT_FOUND') {
    return new HardwareKeyError(`the device key is not in ${tokenName(config)}, or the token is not present: plug the token in; if it was reset, provision again (fieldgate identity csr)`);
  }
  if (/could not load the shared library|DSO support routines|invalid engine|no such engine/i.test(message)) {
    return new HardwareKeyError(
      `the OpenSSL PKCS#11 engine is not installed (looked in ${process.env.OPENSSL_ENGINES ?? 'OpenSSL\'s default folder'}): apt install libengine-pkcs11-openssl, or set OPENSSL_ENGINES to the folder holding pkcs11.so`,
    );
  }
  if (/key values mismatch/i.test(message)) return new IdentityError('key-mismatch', 'the device certificate does not belong to the key in the token: import the certificate issued for this token\'s CSR');
  return new HardwareKeyError(`${tokenName(config)} could not be used for TLS: ${message.split('\n')[0] ?? message}`);
}

/** Loads the token key through the engine once (one PIN use), so a token problem is reported as such before the broker is contacted. */
export function assertEngineKeyUsable(config: Pkcs11Config, certPem: string, key: TlsKey): void {
  assertModuleFile(config);
  readPin(config);
  prepareEngine(config);
  try {
    createSecureContext({ cert: certPem, ...key });
  } catch (error) {
    throw engineError(error, config);
  }
}
