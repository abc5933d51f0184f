// @peculiar/x509 resolves its ASN.1 serializers through tsyringe, which needs the Reflect
// metadata polyfill loaded first. Import x509 from here, never from the package directly.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
