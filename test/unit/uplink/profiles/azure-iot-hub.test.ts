import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IPublishPacket } from 'mqtt';
import { validateConfig } from '../../../../main/config/validate.js';
import type { LeasedReading } from '../../../../main/buffer/types.js';
import { createLogger, silentLogger } from '../../../../main/log/logger.js';
import { IDENTIFIER_PATTERN } from '../../../../main/shared/config/common.js';
import { ConfigError } from '../../../../main/shared/errors.js';
import { ClientOptionsBuilder } from '../../../../main/uplink/client-options.js';
import { AzureIotHubWire } from '../../../../main/uplink/profiles/azure-iot-hub.js';
import { createWire, profileLimits } from '../../../../main/uplink/profiles/index.js';
import type { CommandRequest, ControlRequest, OutboundMessage } from '../../../../main/uplink/profiles/wire.js';
import { fuzz } from '../../fuzz/harness.js';

/** The README's worked azure-iot-hub config. */
const worked = {
  gateway: { id: 'MyDevice01', dataDir: '/var/lib/fieldgate' },
  cloud: { profile: 'azure-iot-hub', url: 'mqtts://contoso.azure-devices.net:8883', caFile: '/etc/fieldgate/DigiCertGlobalRootG2.pem' },
};

function problemsOf(cloud: Record<string, unknown>): string[] {
  try {
    validateConfig({ gateway: worked.gateway, cloud: { ...worked.cloud, ...cloud } });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

const packet = {} as IPublishPacket;

function wireFor(gatewayId = 'MyDevice01', url = worked.cloud.url, log = silentLogger) {
  return new AzureIotHubWire({ config: { url }, gatewayId, log });
}

function leased(wire: string): LeasedReading {
  return { id: 1, sensorId: 't1', seq: 1, ts: 0, wire } as LeasedReading;
}

test('the worked config is valid and speaks MQTT 3.1.1 without saying so; generic and aws-iot-core keep MQTT 5', () => {
  const config = validateConfig(worked);
  assert.equal(config.cloud?.profile, 'azure-iot-hub');
  assert.equal(config.cloud?.protocolVersion, 4);
  assert.equal(validateConfig({ ...worked, cloud: { ...worked.cloud, protocolVersion: 4 } }).cloud?.protocolVersion, 4);
  assert.equal(validateConfig({ gateway: worked.gateway, cloud: { url: 'mqtts://broker:8883', caFile: '/ca.pem' } }).cloud?.protocolVersion, 5);
  assert.equal(validateConfig({ gateway: worked.gateway, cloud: { url: 'mqtts://broker:8883', caFile: '/ca.pem', protocolVersion: 4 } }).cloud?.protocolVersion, 4);
  assert.equal(validateConfig({ ...worked, cloud: { ...worked.cloud, url: 'wss://contoso.azure-devices.net/$iothub/websocket' } }).cloud?.url, 'wss://contoso.azure-devices.net/$iothub/websocket');
  assert.equal(validateConfig({ ...worked, cloud: { ...worked.cloud, url: 'wss://contoso.azure-devices.net:443/$iothub/websocket' } }).cloud?.profile, 'azure-iot-hub');
  assert.equal(validateConfig({ ...worked, cloud: { ...worked.cloud, url: 'mqtts://contoso.azure-devices.net' } }).cloud?.profile, 'azure-iot-hub');
});

test('config check names each IoT Hub rule a config breaks, with the fix', () => {
  assert.deepEqual(problemsOf({ protocolVersion: 5 }), ['"cloud.protocolVersion": Azure IoT Hub speaks MQTT 3.1.1 only: remove cloud.protocolVersion or set it to 4, got 5']);
  assert.deepEqual(problemsOf({ clientId: 'other' }), ['"cloud.clientId": with cloud.profile azure-iot-hub the client id is the device id, which is gateway.id: remove cloud.clientId, got "other"']);
  assert.deepEqual(problemsOf({ batch: { maxBytes: 262_145 } }), [
    '"cloud.batch.maxBytes": Azure IoT Hub accepts device-to-cloud messages up to 256 KB: set cloud.batch.maxBytes to 262144 or less, got 262145',
  ]);
  assert.deepEqual(problemsOf({ batch: { maxBytes: 262_144 } }), []);
  assert.deepEqual(problemsOf({ keepaliveSeconds: 1_178 }), [
    '"cloud.keepaliveSeconds": Azure IoT Hub drops a connection idle for 29.45 minutes, whatever the keep-alive: set cloud.keepaliveSeconds to 1177 or less, got 1178',
  ]);
  assert.deepEqual(problemsOf({ keepaliveSeconds: 1_177 }), []);
  assert.deepEqual(problemsOf({ url: 'mqtts://contoso.azure-devices.net:1883' }), [
    '"cloud.url": Azure IoT Hub serves MQTT on port 8883 only (or MQTT over WebSockets: wss://<hub>.azure-devices.net/$iothub/websocket); port 1883 is not served, got "mqtts://contoso.azure-devices.net:1883"',
  ]);
  for (const url of ['wss://contoso.azure-devices.net/mqtt', 'wss://contoso.azure-devices.net:8443/$iothub/websocket', 'wss://contoso.azure-devices.net/$iothub/websocket?x=1']) {
    assert.deepEqual(problemsOf({ url }), [`"cloud.url": Azure IoT Hub serves MQTT over WebSockets at wss://<hub>.azure-devices.net/$iothub/websocket (port 443) only, got "${url}"`]);
  }
  assert.deepEqual(problemsOf({ url: 'mqtts://contoso.azure-devices.net:8883/devices' }), [
    '"cloud.url": Azure IoT Hub\'s MQTT endpoint has no path: use mqtts://<hub>.azure-devices.net:8883, got "mqtts://contoso.azure-devices.net:8883/devices"',
  ]);
  assert.deepEqual(problemsOf({ url: 'mqtt://contoso.azure-devices.net:1883', allowInsecure: true }), [
    '"cloud.url": Azure IoT Hub takes MQTT over TLS only: use mqtts://<hub>.azure-devices.net:8883, or wss://<hub>.azure-devices.net/$iothub/websocket where port 8883 is blocked, got "mqtt://contoso.azure-devices.net:1883"',
  ]);
});

test("every valid gateway.id is a valid IoT Hub device id (up to 128 ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ ')", () => {
  // Device id rule as documented for IoT Hub device identities; gateway.id's own rule is stricter.
  const deviceIdCharacters = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']$/;
  for (let code = 0; code < 128; code++) {
    const character = String.fromCharCode(code);
    if (IDENTIFIER_PATTERN.test(`a${character}`)) assert.match(character, deviceIdCharacters, JSON.stringify(character));
  }
  assert.ok(IDENTIFIER_PATTERN.test('a'.repeat(64)) && !IDENTIFIER_PATTERN.test('a'.repeat(65)), 'gateway.id has at most 64 characters, within 128');
});

test('the MQTT options: client id = device id, the documented user name with the hub host from cloud.url, no password, MQTT 3.1.1', async () => {
  const config = validateConfig({ ...worked, cloud: { ...worked.cloud, certFile: '/c.pem', keyFile: '/k.pem' } });
  const cloud = config.cloud;
  assert.ok(cloud);
  const builder = new ClientOptionsBuilder({
    config: cloud,
    gatewayId: config.gateway.id,
    credentials: async () => ({ ca: '', cert: '', key: '' }),
    wire: createWire(cloud, config.gateway.id, silentLogger),
    log: silentLogger,
  });
  const options = await builder.build(undefined);
  // Microsoft's example: hub contoso.azure-devices.net, device MyDevice01.
  assert.equal(options.clientId, 'MyDevice01');
  assert.equal(options.username, 'contoso.azure-devices.net/MyDevice01/?api-version=2021-04-12');
  assert.equal(options.password, undefined);
  assert.equal(options.protocolVersion, 4);
  assert.equal(options.properties, undefined);
  const overWebSockets = await wireFor('MyDevice01', 'wss://contoso.azure-devices.net/$iothub/websocket').connectOptions();
  assert.equal(overWebSockets.username, 'contoso.azure-devices.net/MyDevice01/?api-version=2021-04-12');
});

test('telemetry topics carry the sensor and the type in the property bag with $.ct=application%2Fjson&$.ce=utf-8, as documented', () => {
  const wire = wireFor();
  assert.equal(wire.readingsTopic('t1'), 'devices/MyDevice01/messages/events/type=readings&sensor=t1&$.ct=application%2Fjson&$.ce=utf-8');
  // RFC 2396 encoding of values: reserved characters are escaped.
  assert.equal(wire.readingsTopic('a b/c&d=e'), 'devices/MyDevice01/messages/events/type=readings&sensor=a%20b%2Fc%26d%3De&$.ct=application%2Fjson&$.ce=utf-8');
  const alert = wire.alert(Buffer.from('{"type":"readings-dropped"}'));
  assert.deepEqual(alert, { topic: 'devices/MyDevice01/messages/events/type=alert&$.ct=application%2Fjson&$.ce=utf-8', payload: Buffer.from('{"type":"readings-dropped"}') });
  assert.equal(wire.control('cert/csr', Buffer.from('{}')).topic, 'devices/MyDevice01/messages/events/type=control&control=cert%2Fcsr&$.ct=application%2Fjson&$.ce=utf-8');
  const payload = wire.encodeReadings('t1', [leased('{"sensor":"t1","seq":1}'), leased('{"sensor":"t1","seq":2}')]).toString();
  assert.equal(payload, '{"readings":[{"sensor":"t1","seq":1},{"sensor":"t1","seq":2}]}');
});

test('nothing is retained: the status is a reported twin property, the offline status (the will) a telemetry message', () => {
  const wire = wireFor();
  const first = wire.status({ version: '1.2.3', bufferDepth: 7, alerts: null, now: Date.parse('2026-12-02T05:00:00Z') });
  const second = wire.status({ version: '1.2.3', bufferDepth: 0, alerts: null, now: Date.parse('2026-12-02T05:01:00Z') });
  assert.equal(first.topic, '$iothub/twin/PATCH/properties/reported/?$rid=1');
  assert.equal(second.topic, '$iothub/twin/PATCH/properties/reported/?$rid=2');
  assert.deepEqual(JSON.parse(first.payload.toString()), { status: { online: true, version: '1.2.3', bufferDepth: 7, alerts: null, ts: '2026-12-02T05:00:00.000Z' } });
  const offline = wire.offline('1.2.3');
  assert.deepEqual(offline, { topic: 'devices/MyDevice01/messages/events/type=status&$.ct=application%2Fjson&$.ce=utf-8', payload: Buffer.from('{"online":false,"version":"1.2.3"}') });
  const messages: OutboundMessage[] = [first, offline, wire.alert(Buffer.from('{}'))];
  for (const message of messages) assert.notEqual(message.retain, true);
});

test('subscriptions: devicebound, direct methods and twin responses, within the five IoT Hub allows; control messages need no filter', () => {
  const wire = wireFor();
  assert.deepEqual(wire.subscriptions(), ['devices/MyDevice01/messages/devicebound/#', '$iothub/methods/POST/#', '$iothub/twin/res/#']);
  assert.equal(wire.controlFilter(), undefined);
});

test('a direct method becomes a command answered on $iothub/methods/res/<200|400>/?$rid=<rid>', () => {
  const wire = wireFor();
  const request = wire.inbound('$iothub/methods/POST/ping/?$rid=1', Buffer.from('{"id":"r-1"}'), packet) as CommandRequest;
  assert.equal(request.kind, 'command');
  assert.equal(request.name, 'ping');
  assert.equal(request.payload.toString(), '{"id":"r-1"}');
  const ok = request.reply({ id: 'r-1', command: 'ping', ok: true, result: { bufferDepth: 0 } });
  assert.equal(ok.topic, '$iothub/methods/res/200/?$rid=1');
  assert.deepEqual(JSON.parse(ok.payload.toString()), { id: 'r-1', command: 'ping', ok: true, result: { bufferDepth: 0 } });
  assert.equal(request.reply({ command: 'ping', ok: false, error: 'x' }).topic, '$iothub/methods/res/400/?$rid=1');
  // A method invoked without a payload arrives as `null`: the command gets an empty body.
  const empty = wire.inbound('$iothub/methods/POST/flush/?$rid=a1f', Buffer.from('null'), packet) as CommandRequest;
  assert.equal(empty.payload.length, 0);
  assert.equal(empty.reply({ command: 'flush', ok: true }).topic, '$iothub/methods/res/200/?$rid=a1f');
  assert.equal(wire.inbound('$iothub/methods/POST/ping/', Buffer.from('{}'), packet), undefined, 'no $rid: nothing to answer');
});

test('a cloud-to-device message with a command property is a command whose result goes out as telemetry, correlated by $.cid', () => {
  const wire = wireFor();
  const topic = 'devices/MyDevice01/messages/devicebound/%24.mid=9f1c&%24.to=%2Fdevices%2FMyDevice01%2Fmessages%2FdeviceBound&command=flush';
  const request = wire.inbound(topic, Buffer.from('{}'), packet) as CommandRequest;
  assert.equal(request.kind, 'command');
  assert.equal(request.name, 'flush');
  const reply = request.reply({ command: 'flush', ok: true, result: { flushing: true } });
  assert.equal(reply.topic, 'devices/MyDevice01/messages/events/type=command-result&command=flush&$.cid=9f1c&$.ct=application%2Fjson&$.ce=utf-8');
  // The property bag form of the documentation's example (/?prop1&prop2=&prop3=a%20string), with a command.
  const documented = wire.inbound('devices/MyDevice01/messages/devicebound/?prop1&prop2=&prop3=a%20string&command=ping', Buffer.alloc(0), packet) as CommandRequest;
  assert.equal(documented.name, 'ping');
  assert.equal(documented.reply({ command: 'ping', ok: true }).topic, 'devices/MyDevice01/messages/events/type=command-result&command=ping&$.ct=application%2Fjson&$.ce=utf-8');
});

test("a cloud-to-device message with a control property is a control message (rotation's cert/issued)", () => {
  const wire = wireFor();
  const request = wire.inbound('devices/MyDevice01/messages/devicebound/%24.mid=1&control=cert%2Fissued', Buffer.from('{"cert":"…"}'), packet) as ControlRequest;
  assert.deepEqual(request, { kind: 'control', suffix: 'cert/issued', payload: Buffer.from('{"cert":"…"}') });
});

test('logged, not handled: a failed twin update (status not 2xx) and a devicebound message that names nothing', () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  const wire = wireFor('MyDevice01', worked.cloud.url, log);
  // Microsoft's example of a successful reported-properties update.
  assert.equal(wire.inbound('$iothub/twin/res/204/?$rid=1&$version=6', Buffer.alloc(0), packet), undefined);
  assert.equal(lines.length, 0);
  assert.equal(wire.inbound('$iothub/twin/res/429/?$rid=2', Buffer.alloc(0), packet), undefined);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.status, 429);
  assert.equal(lines[0]?.requestId, '2');
  assert.match(String(lines[0]?.msg), /IoT Hub refused the status update of the device twin's reported properties with status 429 \(throttled/);
  assert.equal(wire.inbound('devices/MyDevice01/messages/devicebound/%24.mid=5', Buffer.from('{}'), packet), undefined);
  assert.match(String(lines[1]?.msg), /cloud-to-device message without a "command" or "control" property ignored/);
  assert.equal(wire.inbound('devices/OtherDevice/messages/devicebound/command=ping', Buffer.from('{}'), packet), undefined, "another device's topic");
});

test('limits: 256 KB messages, no CN identity (thumbprint devices), one connection per device id', () => {
  assert.deepEqual(profileLimits({ profile: 'azure-iot-hub', url: worked.cloud.url }), { tls: {}, maxPacketBytes: 262_144, cnIsIdentity: false, oneConnectionPerClientId: true });
});

test('fuzz: any inbound topic and payload gives undefined or a request whose answer stays on the device\'s own topics, never a throw', () => {
  const wire = wireFor();
  // Received topic names never carry wildcards or U+0000.
  const rest = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('%', '%E0%A4%A', 'command=%ZZ', 'control=', '?$rid=', 'ping/?$rid=%2F..%2F', '/?$rid=1')).filter((text) => !/[#+\u0000]/.test(text));
  const prefix = fc.constantFrom('devices/MyDevice01/messages/devicebound/', '$iothub/methods/POST/', '$iothub/twin/res/', '$iothub/twin/res/500/', 'devices/Other/messages/devicebound/', '');
  fuzz(fc.tuple(prefix, rest, fc.uint8Array({ maxLength: 32 })), ([start, tail, bytes]) => {
    const request = wire.inbound(`${start}${tail}`, Buffer.from(bytes), packet);
    if (request?.kind !== 'command') return;
    for (const ok of [true, false]) {
      const { topic, retain } = request.reply({ command: request.name, ok });
      assert.ok(topic.startsWith('$iothub/methods/res/') || topic.startsWith('devices/MyDevice01/messages/events/type=command-result&'), topic);
      assert.notEqual(retain, true);
    }
  });
});
