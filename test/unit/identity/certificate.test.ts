import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { verifyIdentity, type VerifyIdentityInput } from '../../../main/identity/certificate.js';
import { IdentityError } from '../../../main/identity/errors.js';
import { createPki, daysFromNow, type IssuedCert, type Pki } from '../../helpers/pki.js';

// A certificate a provisioning service delivered (AWS IoT fleet provisioning) is exempt from the
// chain and CN checks by its recorded fingerprint only; key match and validity still hold.

let configured: Pki;
let service: Pki;
let issued: IssuedCert;

before(async () => {
  configured = await createPki();
  service = await createPki();
  issued = await service.issueClientCert({ cn: 'AWS IoT Certificate' });
});

after(async () => {
  await configured?.cleanup();
  await service?.cleanup();
});

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

function input(cert: IssuedCert, overrides: Partial<VerifyIdentityInput> = {}): VerifyIdentityInput {
  return { certPem: cert.certPem, publicKey: createPublicKey(cert.keyPem), caPem: configured.ca.certPem, caSource: 'ca.pem', gatewayId: 'gw-7', now: Date.now(), source: 'cert.pem', ...overrides };
}

const problem = (expected: string) => (error: unknown) => error instanceof IdentityError && error.problem === expected;

test('without the record a certificate from another CA and with another CN is refused', () => {
  assert.throws(() => verifyIdentity(input(issued)), problem('wrong-subject'));
  assert.throws(() => verifyIdentity(input(issued, { gatewayId: 'AWS IoT Certificate' })), problem('untrusted'));
});

test('with its fingerprint recorded it is accepted: no chain to the CA file, any CN', () => {
  assert.equal(verifyIdentity(input(issued, { provisionedFingerprint: fingerprint(issued.certPem) })).commonName, 'AWS IoT Certificate');
});

test('the record of another certificate exempts nothing', async () => {
  const other = await service.issueClientCert({ cn: 'gw-7' });
  assert.throws(() => verifyIdentity(input(issued, { gatewayId: 'AWS IoT Certificate', provisionedFingerprint: fingerprint(other.certPem) })), problem('untrusted'));
});

test('the record does not exempt the key match or the validity', async () => {
  const otherKey = await service.issueClientCert({ cn: 'gw-7' });
  assert.throws(() => verifyIdentity(input(issued, { publicKey: createPublicKey(otherKey.keyPem), provisionedFingerprint: fingerprint(issued.certPem) })), problem('key-mismatch'));
  const expired = await service.issueClientCert({ cn: 'gw-7', notBefore: daysFromNow(-10), notAfter: daysFromNow(-1) });
  assert.throws(() => verifyIdentity(input(expired, { provisionedFingerprint: fingerprint(expired.certPem) })), problem('expired'));
});
