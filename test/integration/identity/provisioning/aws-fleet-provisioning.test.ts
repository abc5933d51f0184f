import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../../main/config/validate.js';
import { identityStoreFromConfig } from '../../../../main/identity/from-config.js';
import { provisionThroughAws, templateParameters } from '../../../../main/identity/provisioning/aws-fleet-provisioning.js';
import type { Config } from '../../../../main/shared/config/schema.js';
import { CliProcess, runCli } from '../../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.js';
import { createPki, type IssuedCert, type Pki } from '../../../helpers/pki.js';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from '../../../helpers/softhsm.js';
import { opensslText, waitFor } from '../fixture.js';
import { provisioningAcl, SERVICE_CN, startAwsIotEmulator, type AwsIotEmulator } from './aws-iot-emulator.js';

const THING = 'plant3-line2_gw-7';
const TEMPLATE = 'fieldgate-fleet';
const CLAIM_CN = 'fleet-claim';
// The endpoint: port 443 (which the aws-iot-core checks accept, and on which fieldgate offers ALPN
// x-amzn-mqtt-ca) on a loopback address of this run's own, so parallel runs do not collide.
const octet = () => 1 + Math.floor(Math.random() * 254);
const AWS_HOST = `127.${octet()}.${octet()}.${octet()}`;
const AWS_ENDPOINT = `mqtts://${AWS_HOST}:443`;

// Two CAs, as with AWS: "Amazon Root CA 1" signs the endpoint (cloud.caFile), AWS's own issuing CA
// signs claim and device certificates, and no CA file on the box holds the latter.
let serverPki: Pki;
let issuerPki: Pki;
let broker: Mosquitto;
let claim: IssuedCert;
let aws: AwsIotEmulator;
let hsm: SoftHsm;
const cleanups: (() => unknown)[] = [];

before(async () => {
  serverPki = await createPki({ name: 'Amazon Root CA 1 (test stand-in)' });
  issuerPki = await createPki({ name: 'AWS IoT issuing CA (test stand-in)' });
  const serverCert = await serverPki.issueServerCert({ hosts: ['localhost', '127.0.0.1', AWS_HOST] });
  const endpointListener = [`listener 443 ${AWS_HOST}`, `cafile ${issuerPki.ca.certPath}`, `certfile ${serverCert.certPath}`, `keyfile ${serverCert.keyPath}`, 'tls_version tlsv1.2', 'require_certificate true', 'use_identity_as_username true'];
  broker = await startMosquitto({ pki: issuerPki, serverCert, acl: provisioningAcl(CLAIM_CN, TEMPLATE), extraConfig: endpointListener });
  claim = await issuerPki.issueClientCert({ cn: CLAIM_CN });
  aws = await startAwsIotEmulator({ broker, serverCa: serverPki.ca.certPem, issuer: issuerPki, service: await issuerPki.issueClientCert({ cn: SERVICE_CN }) });
  hsm = await createSoftHsm({ label: 'fg-aws' });
  // The token library reads its configuration when this process first loads it.
  process.env.SOFTHSM2_CONF = hsm.env.SOFTHSM2_CONF;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  aws.behaviour = { kind: 'accept' };
  aws.requests.length = 0;
  aws.telemetry.length = 0;
});

after(async () => {
  await aws?.close();
  await broker?.cleanup();
  await serverPki?.cleanup();
  await issuerPki?.cleanup();
  await hsm?.cleanup();
});

interface Box {
  root: string;
  identityDir: string;
  /** As the installer writes it: aws-iot-core with the endpoint. */
  config: Config;
  configFile: string;
}

function box(options: { identity?: Record<string, unknown> } = {}): Box {
  const root = mkdtempSync(join(tmpdir(), 'fieldgate-awsprov-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data');
  const input = {
    gateway: { id: THING, dataDir },
    ui: { enabled: false },
    identity: options.identity ?? {},
    sensors: { sim: [{ id: 's1', rate: 20 }] },
    cloud: { profile: 'aws-iot-core', url: AWS_ENDPOINT, caFile: serverPki.ca.certPath, connectTimeoutMs: 5_000, backoff: { initialMs: 200, maxMs: 1_000 } },
  };
  const configFile = join(root, 'fieldgate.yaml');
  writeFileSync(configFile, JSON.stringify(input));
  return { root, identityDir: join(dataDir, 'identity'), config: validateConfig(input), configFile };
}

function provision(target: Box, options: { timeoutMs?: number; parameters?: string[]; claimCert?: IssuedCert; config?: Config; template?: string } = {}) {
  const config = options.config ?? target.config;
  return provisionThroughAws({
    config,
    claimCertFile: (options.claimCert ?? claim).certPath,
    claimKeyFile: (options.claimCert ?? claim).keyPath,
    template: options.template ?? TEMPLATE,
    parameters: templateParameters(config, options.parameters ?? []),
    timeoutMs: options.timeoutMs ?? 10_000,
    now: Date.now,
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? filesUnder(join(dir, entry)) : [join(dir, entry)]));
}

const mode = (path: string) => statSync(path).mode & 0o777;
const csrRequests = () => aws.requests.filter((r) => r.topic === '$aws/certificates/create-from-csr/json');
const registerRequests = () => aws.requests.filter((r) => r.topic === `$aws/provisioning-templates/${TEMPLATE}/provision/json`);

/** `fieldgate run` with the installed identity; resolves once a reading of its sim sensor reached the broker. */
async function nextRunDeliversReadings(target: Box, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const gateway = new CliProcess(['run', '--config', target.configFile], env);
  cleanups.push(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exit();
  });
  await waitFor(() => aws.telemetry.some((m) => m.topic === `fieldgate/${THING}/readings/s1`), `a reading from the provisioned gateway; its output:\n${gateway.lines.join('\n')}`);
}

/** A first identity the usual way (`identity csr`, signed by the CA in cloud.caFile, `identity import`): what a failed provisioning must leave alone. */
async function existingIdentity(target: Box): Promise<{ cert: string; key: string; serial: string }> {
  const store = identityStoreFromConfig(target.config);
  const { csrPem } = await store.writeProvisioningCsr();
  const { serial } = store.importCertificate(await serverPki.signCsr(csrPem, { days: 30 }), 'first.pem', Date.now());
  return { serial, cert: readFileSync(join(target.identityDir, 'cert.pem'), 'utf8'), key: readFileSync(join(target.identityDir, 'key.pem'), 'utf8') };
}

function assertIntact(target: Box, before: { cert: string; key: string }): void {
  assert.equal(readFileSync(join(target.identityDir, 'cert.pem'), 'utf8'), before.cert, 'the old certificate stays');
  assert.equal(readFileSync(join(target.identityDir, 'key.pem'), 'utf8'), before.key, 'the key stays');
  assert.equal(existsSync(join(target.identityDir, 'cert-origin.json')), false, 'no origin record');
  assert.doesNotThrow(() => identityStoreFromConfig(target.config).load(Date.now()), 'the old identity still loads');
}

test('`fieldgate identity provision-aws` on a fresh box: the key is made on the box, only its CSR goes to AWS, the certificate is installed 0600 and the next `fieldgate run` connects with it', async () => {
  const target = box();
  const claimKeyBefore = { text: readFileSync(claim.keyPath, 'utf8'), mode: mode(claim.keyPath), mtime: statSync(claim.keyPath).mtimeMs };

  const cli = await runCli([
    'identity', 'provision-aws', '--config', target.configFile, '--claim-cert', claim.certPath, '--claim-key', claim.keyPath,
    '--template', TEMPLATE, '--parameter', 'SerialNumber=SN-0042', '--json',
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stderr, /generated a new ecdsa-p256 key for this box; only its CSR went to AWS IoT/);
  const result = JSON.parse(cli.stdout) as { thingName: string; thingNameMatches: boolean; keyCreated: boolean; certificateId: string; deviceConfiguration: Record<string, string> };
  assert.equal(result.thingName, THING);
  assert.equal(result.thingNameMatches, true);
  assert.equal(result.keyCreated, true);
  assert.deepEqual(result.deviceConfiguration, aws.deviceConfiguration);
  assert.match(broker.log(), new RegExp(`as ${THING} \\(p5, c1, k\\d+, u'${CLAIM_CN}'\\)`), 'the claim connection: client id = the thing name, claim certificate');
  // What went to AWS: exactly the documented request payloads, the CSR of the on-box key.
  const [csrRequest] = csrRequests();
  assert.deepEqual(Object.keys(csrRequest?.body ?? {}), ['certificateSigningRequest']);
  const csrPem = String(csrRequest?.body.certificateSigningRequest);
  const onBoxPublicKey = createPublicKey(readFileSync(join(target.identityDir, 'key.pem'), 'utf8')).export({ type: 'spki', format: 'pem' }).toString();
  assert.equal(opensslText(['req', '-noout', '-pubkey'], csrPem), onBoxPublicKey, "the CSR carries the on-box key's public half");
  assert.match(opensslText(['req', '-noout', '-verify', '-subject'], csrPem), new RegExp(`CN ?= ?${THING}`));
  const [registerRequest] = registerRequests();
  assert.deepEqual(registerRequest?.body.parameters, { ThingName: THING, SerialNumber: 'SN-0042' });
  assert.equal(typeof registerRequest?.body.certificateOwnershipToken, 'string');
  for (const request of aws.requests) assert.doesNotMatch(JSON.stringify(request.body), /PRIVATE KEY/, `no private key in ${request.topic}`);

  // Installed: the AWS-issued certificate for this key, private files, the origin recorded.
  const certFile = join(target.identityDir, 'cert.pem');
  const installed = new X509Certificate(readFileSync(certFile, 'utf8'));
  assert.equal(installed.issuer, `CN=${issuerPki.ca.name}`);
  assert.equal(installed.publicKey.export({ type: 'spki', format: 'pem' }).toString(), onBoxPublicKey);
  assert.equal(result.certificateId, installed.fingerprint256.replace(/:/g, '').toLowerCase());
  assert.equal(mode(certFile), 0o600);
  assert.equal(mode(join(target.identityDir, 'key.pem')), 0o600);
  const origin = JSON.parse(readFileSync(join(target.identityDir, 'cert-origin.json'), 'utf8')) as Record<string, string>;
  assert.equal(origin.fingerprint256, installed.fingerprint256);
  assert.equal(origin.certificateId, result.certificateId);
  assert.equal(origin.registeredAs, THING);
  assert.equal(existsSync(join(target.identityDir, 'csr.pem')), false, 'the CSR is done with');

  // The claim key was only read: unchanged, and no copy of it on the box.
  assert.deepEqual({ text: readFileSync(claim.keyPath, 'utf8'), mode: mode(claim.keyPath), mtime: statSync(claim.keyPath).mtimeMs }, claimKeyBefore);
  const claimKeyBody = claim.keyPem.replace(/-----[^-]+-----|\s/g, '');
  for (const file of filesUnder(target.root)) assert.equal(readFileSync(file, 'utf8').replace(/\s/g, '').includes(claimKeyBody), false, `${file} holds no claim key`);

  // `identity show` takes it although its issuer is in no CA file on the box.
  const show = await runCli(['identity', 'show', '--config', target.configFile, '--json']);
  assert.equal(show.code, 0, show.stderr);
  assert.equal((JSON.parse(show.stdout) as { issuer: string }).issuer, `CN=${issuerPki.ca.name}`);

  await nextRunDeliversReadings(target);
});

test('a box that has an identity gets a new certificate for the same key, and the next run uses it', async () => {
  const target = box();
  const first = await existingIdentity(target);
  const result = await provision(target);
  assert.equal(result.keyCreated, false);
  assert.equal(result.replacedSerial, first.serial);
  assert.equal(readFileSync(join(target.identityDir, 'key.pem'), 'utf8'), first.key, 'the same key');
  assert.notEqual(readFileSync(join(target.identityDir, 'cert.pem'), 'utf8'), first.cert);
  await nextRunDeliversReadings(target);
});

test('CreateCertificateFromCsr rejected: the error carries statusCode, errorCode and errorMessage, RegisterThing is not called, the old identity is intact', async () => {
  const target = box();
  const first = await existingIdentity(target);
  aws.behaviour = { kind: 'reject-csr', rejection: { statusCode: 400, errorCode: 'InvalidRequestException', errorMessage: 'The CSR is not valid.' } };
  await assert.rejects(provision(target), (error: Error) => {
    assert.match(error.message, /AWS IoT rejected CreateCertificateFromCsr: statusCode 400, errorCode InvalidRequestException, errorMessage "The CSR is not valid\."/);
    assert.match(error.message, /EC P-256/);
    return true;
  });
  assert.equal(registerRequests().length, 0);
  assertIntact(target, first);
});

test('RegisterThing rejected: nothing is installed, the old identity is intact', async () => {
  const target = box();
  const first = await existingIdentity(target);
  aws.behaviour = { kind: 'reject-register', rejection: { statusCode: 403, errorCode: 'UnauthorizedException', errorMessage: 'Not authorized to provision.' } };
  await assert.rejects(provision(target), /AWS IoT rejected RegisterThing: statusCode 403, errorCode UnauthorizedException, errorMessage "Not authorized to provision\."\. The claim certificate may not use template "fieldgate-fleet"/);
  assert.equal(csrRequests().length, 1);
  assertIntact(target, first);
});

test('no answer: the timeout names the topics and the claim policy, the old identity is intact', async () => {
  const target = box();
  const first = await existingIdentity(target);
  aws.behaviour = { kind: 'silent' };
  await assert.rejects(provision(target, { timeoutMs: 1_000 }), /no answer to CreateCertificateFromCsr on \$aws\/certificates\/create-from-csr\/json\/accepted or \$aws\/certificates\/create-from-csr\/json\/rejected within 1 s\. The claim certificate's IoT policy must allow/);
  assertIntact(target, first);
});

// Mosquitto grants a subscription its ACL denies (and delivers nothing on it), so here the refusal
// comes as PUBACK 0x87 on the publish, as AWS IoT answers an MQTT 5 publish outside the policy.
test('a claim policy that does not cover the template: the refused RegisterThing publish is named with the policy fix, nothing is installed', async () => {
  const target = box();
  await assert.rejects(
    provision(target, { template: 'other-template' }),
    /AWS IoT refused the publish on \$aws\/provisioning-templates\/other-template\/provision\/json \(reason code 0x87\): .*The claim certificate's IoT policy must allow iot:Publish/,
  );
  assert.equal(existsSync(join(target.identityDir, 'cert.pem')), false);
  assert.equal(existsSync(join(target.identityDir, 'cert-origin.json')), false);
});

test('a certificate for another key is refused before RegisterThing could activate it; nothing is installed', async () => {
  const target = box();
  const first = await existingIdentity(target);
  aws.behaviour = { kind: 'other-key', certPem: (await issuerPki.issueClientCert({ cn: THING })).certPem };
  await assert.rejects(provision(target), /AWS IoT issued a certificate this box cannot use, so the thing was not registered and nothing was installed: .*does not match the device key/);
  assert.equal(registerRequests().length, 0);
  assertIntact(target, first);
});

test('the claim connection: a wrong cloud.caFile and a claim certificate AWS does not know fail with the fix, before anything is asked', async () => {
  const target = box();
  const wrongCa = { ...target.config, cloud: { ...target.config.cloud!, caFile: issuerPki.ca.certPath } };
  await assert.rejects(provision(target, { config: wrongCa }), /cannot connect to mqtts:\/\/[\d.]+:443 with the claim certificate \(unknown-ca\).*Fix: cloud.caFile must hold the Amazon root CA/);
  const stranger = await serverPki.issueClientCert({ cn: CLAIM_CN });
  await assert.rejects(provision(target, { claimCert: stranger }), /with the claim certificate \((client-cert-rejected|connection-lost)\)/);
  assert.equal(aws.requests.length, 0);
  assert.equal(existsSync(join(target.identityDir, 'cert.pem')), false);
});

test('the exemption from the chain check holds for the recorded certificate only: another one from the same issuer is refused', async () => {
  const target = box();
  await provision(target);
  const store = identityStoreFromConfig(target.config);
  const { csrPem } = await store.writeProvisioningCsr();
  // Same key, same issuer, not delivered by provisioning: as if someone swapped cert.pem.
  writeFileSync(join(target.identityDir, 'cert.pem'), await issuerPki.signCsr(csrPem, { days: 365 }), { mode: 0o600 });
  assert.throws(() => store.load(Date.now()), /does not chain to the configured CA/);
});

test('AWS names the thing differently: the certificate is installed, and the command exits 1 saying which gateway.id to set', async () => {
  const target = box();
  aws.behaviour = { kind: 'accept', thingName: (parameters) => `Thing_${parameters.SerialNumber}` };
  const cli = await runCli(['identity', 'provision-aws', '--config', target.configFile, '--claim-cert', claim.certPath, '--claim-key', claim.keyPath, '--template', TEMPLATE, '--parameter', 'SerialNumber=SN-0042']);
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /^thing: {7}Thing_SN-0042$/m);
  assert.match(cli.stdout, /^device configuration: FallbackUrl=https:\/\/www\.example\.com\/test-site$/m);
  assert.ok(
    cli.stderr.includes(`AWS IoT registered the thing as "Thing_SN-0042" but gateway.id is "${THING}". The certificate is installed; set gateway.id: Thing_SN-0042 in ${target.configFile}`),
    cli.stderr,
  );
  assert.doesNotThrow(() => identityStoreFromConfig(target.config).load(Date.now()));
});

test('PKCS#11: the key is made in the token, the token signs the CSR, and the next run connects through the engine', async () => {
  const target = box({ identity: { keyStore: 'pkcs11', pkcs11: { module: SOFTHSM_MODULE, tokenLabel: hsm.label, pinFile: hsm.pinFile } } });
  const result = await provision(target);
  assert.equal(result.keyCreated, true);
  const reference = JSON.parse(readFileSync(join(target.identityDir, 'key.pkcs11.json'), 'utf8')) as { publicKey: string };
  const csrPem = String(csrRequests()[0]?.body.certificateSigningRequest);
  assert.equal(opensslText(['req', '-noout', '-pubkey'], csrPem).replace(/-----[^-]+-----|\s/g, ''), reference.publicKey, 'the CSR carries the token key');
  assert.equal(existsSync(join(target.identityDir, 'key.pem')), false, 'no key file');
  await nextRunDeliversReadings(target, hsm.env);
});
