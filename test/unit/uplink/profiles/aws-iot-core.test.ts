import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../../main/config/validate.js';
import { AWS_IOT_CORE, awsTopicProblem } from '../../../../main/shared/config/cloud-profiles.js';
import { ConfigError } from '../../../../main/shared/errors.js';
import { silentLogger } from '../../../../main/log/logger.js';
import { ClientOptionsBuilder } from '../../../../main/uplink/client-options.js';
import { createWire, profileLimits } from '../../../../main/uplink/profiles/index.js';
import { Topics } from '../../../../main/uplink/topics.js';

/** The README's worked aws-iot-core config. */
const worked = {
  gateway: { id: 'plant3-line2_gw-7', dataDir: '/var/lib/fieldgate' },
  cloud: {
    profile: 'aws-iot-core',
    url: 'mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:8883',
    caFile: '/etc/fieldgate/AmazonRootCA1.pem',
    batch: { maxReadings: 100 },
  },
};

function problemsOf(cloud: Record<string, unknown>, gateway: Record<string, unknown> = {}): string[] {
  try {
    validateConfig({ gateway: { ...worked.gateway, ...gateway }, cloud: { ...worked.cloud, ...cloud } });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

test('the worked config is valid; generic stays the default', () => {
  assert.equal(validateConfig(worked).cloud?.profile, 'aws-iot-core');
  assert.equal(validateConfig({ gateway: worked.gateway, cloud: { url: 'mqtts://broker:8883', caFile: '/ca.pem' } }).cloud?.profile, 'generic');
});

test('config check names each AWS IoT Core rule a config breaks', () => {
  assert.deepEqual(problemsOf({ url: 'wss://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com/mqtt' }), [
    '"cloud.url": AWS IoT Core takes X.509 client certificates over MQTT on TLS only: use mqtts://<endpoint>-ats.iot.<region>.amazonaws.com:8883 (or :443); MQTT over WebSockets needs SigV4 signing, which fieldgate does not do, got "wss://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com/mqtt"',
  ]);
  assert.deepEqual(problemsOf({ url: 'mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:1883' }), [
    '"cloud.url": AWS IoT Core takes MQTT with a client certificate on port 8883, or on 443 with ALPN "x-amzn-mqtt-ca" (set automatically); port 1883 is not served, got "mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:1883"',
  ]);
  assert.deepEqual(problemsOf({ clientId: 'other' }), ['"cloud.clientId": with cloud.profile aws-iot-core the client id is the thing name, which is gateway.id: remove cloud.clientId, got "other"']);
  assert.deepEqual(problemsOf({ inFlight: 200 }), ['"cloud.inFlight": AWS IoT Core allows at most 100 unacknowledged publishes per client: set cloud.inFlight to 100 or less, got 200']);
  assert.deepEqual(problemsOf({ batch: { maxBytes: 262_144 } }), ['"cloud.batch.maxBytes": AWS IoT Core accepts payloads up to 128 KB: set cloud.batch.maxBytes to 131072 or less, got 262144']);
  assert.deepEqual(problemsOf({}, { id: 'gw.7' }), [
    '"gateway.id": with cloud.profile aws-iot-core gateway.id is the thing name, and AWS IoT Core thing names have only letters, digits, ":", "_" and "-", got "gw.7"',
  ]);
});

test('profiles that are not complete are not accepted', () => {
  assert.deepEqual(problemsOf({ profile: 'hivemq' }), ['"cloud.profile": expected "generic", "aws-iot-core", "azure-iot-hub" or "thingsboard", got "hivemq"']);
});

test('topic rules follow the AWS IoT Core documentation: $aws/ is reserved, at most 7 slashes', () => {
  // Reserved topic from the AWS IoT Device Shadow documentation.
  assert.match(awsTopicProblem('$aws/things/myLightBulb/shadow/update') ?? '', /reserves topics under "\$aws\/"/);
  assert.equal(awsTopicProblem('a/b/c/d/e/f/g/h'), undefined);
  assert.equal(awsTopicProblem('a/b/c/d/e/f/g/h/i'), 'AWS IoT Core allows at most 7 slashes in a topic; "a/b/c/d/e/f/g/h/i" has 8');
  // Every topic the uplink uses for a thing stays within the limits.
  const topics = new Topics('fieldgate', 'plant3-line2_gw-7');
  for (const topic of [topics.readings('t1'), topics.status, topics.alerts, topics.commands, topics.commandResult('ping'), topics.control('cert/csr')]) {
    assert.equal(awsTopicProblem(topic), undefined, topic);
  }
});

test('limits: 100 publishes/s, 100 in flight, 128 KB; ALPN x-amzn-mqtt-ca only on port 443', () => {
  const on8883 = profileLimits({ profile: 'aws-iot-core', url: 'mqtts://x-ats.iot.eu-west-1.amazonaws.com:8883' });
  assert.deepEqual(on8883, { tls: {}, maxPublishesPerSecond: 100, maxPacketBytes: 131_072, maxInFlight: 100, cnIsIdentity: false, oneConnectionPerClientId: true });
  assert.deepEqual(profileLimits({ profile: 'aws-iot-core', url: 'mqtts://x-ats.iot.eu-west-1.amazonaws.com:443' }).tls, { ALPNProtocols: ['x-amzn-mqtt-ca'] });
  assert.deepEqual(profileLimits({ profile: 'generic', url: 'mqtts://broker:443' }), { tls: {}, cnIsIdentity: true });
  assert.equal(AWS_IOT_CORE.alpnOn443, 'x-amzn-mqtt-ca');
});

test('the MQTT options on 443 offer ALPN x-amzn-mqtt-ca and use the thing name as client id', async () => {
  const config = validateConfig({ ...worked, cloud: { ...worked.cloud, url: 'mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:443', certFile: '/c.pem', keyFile: '/k.pem' } });
  const cloud = config.cloud;
  assert.ok(cloud);
  const builder = new ClientOptionsBuilder({ config: cloud, gatewayId: config.gateway.id, credentials: async () => ({ ca: '', cert: '', key: '' }), wire: createWire(cloud, config.gateway.id, silentLogger), log: silentLogger });
  const options = (await builder.build(undefined)) as { clientId?: string; ALPNProtocols?: string[] };
  assert.equal(options.clientId, 'plant3-line2_gw-7');
  assert.deepEqual(options.ALPNProtocols, ['x-amzn-mqtt-ca']);
});
