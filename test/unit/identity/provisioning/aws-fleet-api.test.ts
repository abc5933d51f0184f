import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CREATE_FROM_CSR_TOPICS,
  createFromCsrRequest,
  parseCreateFromCsrAccepted,
  parseRegisterThingAccepted,
  parseRejection,
  registerThingRequest,
  registerThingTopics,
} from '../../../../main/identity/provisioning/aws-fleet-api.js';
import { templateParameters } from '../../../../main/identity/provisioning/aws-fleet-provisioning.js';

// Pinned to AWS IoT Core Developer Guide, "Device provisioning MQTT API" (fleet-provision-api), JSON payload format.

test('CreateCertificateFromCsr topics are the documented ones', () => {
  assert.deepEqual(CREATE_FROM_CSR_TOPICS, {
    request: '$aws/certificates/create-from-csr/json',
    accepted: '$aws/certificates/create-from-csr/json/accepted',
    rejected: '$aws/certificates/create-from-csr/json/rejected',
  });
});

test('RegisterThing topics carry the template name', () => {
  assert.deepEqual(registerThingTopics('FleetTemplate_1'), {
    request: '$aws/provisioning-templates/FleetTemplate_1/provision/json',
    accepted: '$aws/provisioning-templates/FleetTemplate_1/provision/json/accepted',
    rejected: '$aws/provisioning-templates/FleetTemplate_1/provision/json/rejected',
  });
});

test('a template name AWS would not accept (or that would be a wildcard or another level) is refused naming the flag', () => {
  for (const bad of ['', '+', '#', 'a/b', 'tmpl name', 'x'.repeat(37)]) {
    assert.throws(() => registerThingTopics(bad), /"--template": AWS IoT provisioning template names have 1 to 36 letters, digits, "_" or "-"/, JSON.stringify(bad));
  }
  assert.doesNotThrow(() => registerThingTopics('x'.repeat(36)));
});

test('the CreateCertificateFromCsr request is {"certificateSigningRequest": "<PEM>"}', () => {
  const csr = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n';
  assert.equal(createFromCsrRequest(csr), `{"certificateSigningRequest":${JSON.stringify(csr)}}`);
});

test('the RegisterThing request is {"certificateOwnershipToken": …, "parameters": {…}}', () => {
  assert.equal(
    registerThingRequest('token-1', { ThingName: 'gw-7', SerialNumber: 'SN-0042' }),
    '{"certificateOwnershipToken":"token-1","parameters":{"ThingName":"gw-7","SerialNumber":"SN-0042"}}',
  );
});

test('the CreateCertificateFromCsr answer gives the token, the certificate id and the certificate', () => {
  const answer = { certificateOwnershipToken: 'tok', certificateId: 'cd82bb924d4c6ccbb14986dcb4f40f30d892cc6b3ce7ad5008ed6542eea2b049', certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' };
  assert.deepEqual(parseCreateFromCsrAccepted(Buffer.from(JSON.stringify(answer))), answer);
  assert.throws(() => parseCreateFromCsrAccepted(JSON.stringify({ ...answer, certificatePem: undefined })), /the CreateCertificateFromCsr answer has no "certificatePem" string/);
  assert.throws(() => parseCreateFromCsrAccepted('not json'), /is not JSON/);
  assert.throws(() => parseCreateFromCsrAccepted('[]'), /is not a JSON object/);
});

test('the RegisterThing answer gives the thing name and the template\'s device configuration', () => {
  // The device configuration of AWS's fleet provisioning template example.
  const answer = { deviceConfiguration: { FallbackUrl: 'https://www.example.com/test-site', LocationUrl: 'https://example.aws' }, thingName: 'ThingPrefix_SN-0042' };
  assert.deepEqual(parseRegisterThingAccepted(JSON.stringify(answer)), answer);
  assert.deepEqual(parseRegisterThingAccepted('{"thingName":"t"}'), { thingName: 't', deviceConfiguration: {} });
  assert.throws(() => parseRegisterThingAccepted('{"deviceConfiguration":{}}'), /the RegisterThing answer has no "thingName" string/);
  assert.throws(() => parseRegisterThingAccepted('{"thingName":"t","deviceConfiguration":[]}'), /"deviceConfiguration" that is not an object/);
});

test('a rejection has statusCode, errorCode and errorMessage; a payload without them still reads as a rejection', () => {
  assert.deepEqual(parseRejection('{"statusCode":400,"errorCode":"InvalidCertificateOwnershipToken","errorMessage":"Certificate ownership token cannot be found."}'), {
    statusCode: 400,
    errorCode: 'InvalidCertificateOwnershipToken',
    errorMessage: 'Certificate ownership token cannot be found.',
  });
  assert.deepEqual(parseRejection('garbage'), { statusCode: undefined, errorCode: undefined, errorMessage: undefined });
});

test('template parameters: ThingName is gateway.id unless given; KEY=VALUE pairs are added in order, the value may hold "="', () => {
  const config = { gateway: { id: 'gw-7' } } as Parameters<typeof templateParameters>[0];
  assert.deepEqual(templateParameters(config, []), { ThingName: 'gw-7' });
  assert.deepEqual(templateParameters(config, ['SerialNumber=SN-1', 'ThingName=other', 'Note=a=b', 'Empty=']), { ThingName: 'other', SerialNumber: 'SN-1', Note: 'a=b', Empty: '' });
  assert.throws(() => templateParameters(config, ['SerialNumber']), /"--parameter": expected KEY=VALUE/);
  assert.throws(() => templateParameters(config, ['=x']), /"--parameter": expected KEY=VALUE/);
});
