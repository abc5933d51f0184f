/**
 * The AWS IoT side of fleet provisioning, played by one MQTT client on a real Mosquitto: it
 * answers CreateCertificateFromCsr by signing the CSR with a test CA that stands in for AWS's
 * issuing CA, and RegisterThing by checking the ownership token, on the documented topics.
 *
 * Mosquitto lets clients publish and subscribe to `$aws/…` topics (only `$SYS` is special, and
 * `#`/`+` at the first level do not match `$` topics), so the topics are AWS's own. Where it differs:
 * AWS sends an answer to the requesting connection only, Mosquitto to every subscriber the ACL
 * allows (the ACL confines the claim certificate to the provisioning topics); and Mosquitto grants
 * a subscription its ACL denies and delivers nothing on it, where AWS refuses or disconnects; a
 * publish outside the ACL gets PUBACK 0x87 from both (MQTT 5).
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Mosquitto } from '../../../helpers/mosquitto.js';
import type { IssuedCert, Pki } from '../../../helpers/pki.js';

export const SERVICE_CN = 'aws-iot-service';

/** The ACL: the claim certificate gets the provisioning topics of one template, a device its own `fieldgate/<client id>/#`. */
export function provisioningAcl(claimCn: string, template: string): string {
  return [
    `user ${claimCn}`,
    'topic readwrite $aws/certificates/create-from-csr/json/#',
    `topic readwrite $aws/provisioning-templates/${template}/provision/json/#`,
    '',
    `user ${SERVICE_CN}`,
    'topic readwrite $aws/#',
    'topic readwrite fieldgate/#',
    '',
    'pattern readwrite fieldgate/%c/#',
    '',
  ].join('\n');
}

export type EmulatorBehaviour =
  | { kind: 'accept'; thingName?: (parameters: Record<string, string>) => string }
  | { kind: 'reject-csr'; rejection: object }
  | { kind: 'reject-register'; rejection: object }
  | { kind: 'silent' }
  /** Signs a different key than the CSR's, as a broken or hostile service would. */
  | { kind: 'other-key'; certPem: string };

export interface AwsIotEmulator {
  behaviour: EmulatorBehaviour;
  /** Every request payload received, by topic. */
  requests: { topic: string; body: Record<string, unknown> }[];
  /** Every message under `fieldgate/` (what a gateway sends once provisioned). */
  telemetry: { topic: string; text: string }[];
  deviceConfiguration: Record<string, string>;
  close(): Promise<void>;
}

export async function startAwsIotEmulator(options: { broker: Mosquitto; serverCa: string; issuer: Pki; service: IssuedCert }): Promise<AwsIotEmulator> {
  const client: MqttClient = await connectAsync(options.broker.url, { ca: options.serverCa, cert: options.service.certPem, key: options.service.keyPem, protocolVersion: 5, reconnectPeriod: 0, clientId: SERVICE_CN });
  await client.subscribeAsync(['$aws/certificates/create-from-csr/json', '$aws/provisioning-templates/+/provision/json', 'fieldgate/#'], { qos: 1 });
  const tokens = new Set<string>();
  const emulator: AwsIotEmulator = {
    behaviour: { kind: 'accept' },
    requests: [],
    telemetry: [],
    deviceConfiguration: { FallbackUrl: 'https://www.example.com/test-site', LocationUrl: 'https://example.aws' },
    close: () => client.endAsync(),
  };
  const answer = (topic: string, body: object) => client.publishAsync(topic, JSON.stringify(body), { qos: 1 });

  async function handle(topic: string, body: Record<string, unknown>): Promise<void> {
    const behaviour = emulator.behaviour;
    if (behaviour.kind === 'silent') return;
    if (topic === '$aws/certificates/create-from-csr/json') {
      if (behaviour.kind === 'reject-csr') return void (await answer(`${topic}/rejected`, behaviour.rejection));
      const certificatePem = behaviour.kind === 'other-key' ? behaviour.certPem : await options.issuer.signCsr(String(body.certificateSigningRequest), { days: 365 });
      const certificateOwnershipToken = randomBytes(24).toString('base64');
      tokens.add(certificateOwnershipToken);
      const certificateId = new X509Certificate(certificatePem).fingerprint256.replace(/:/g, '').toLowerCase();
      await answer(`${topic}/accepted`, { certificateOwnershipToken, certificateId, certificatePem });
      return;
    }
    if (behaviour.kind === 'reject-register') return void (await answer(`${topic}/rejected`, behaviour.rejection));
    if (!tokens.has(String(body.certificateOwnershipToken))) {
      await answer(`${topic}/rejected`, { statusCode: 400, errorCode: 'InvalidCertificateOwnershipToken', errorMessage: 'Certificate ownership token cannot be found.' });
      return;
    }
    const parameters = (body.parameters ?? {}) as Record<string, string>;
    const thingName = behaviour.kind === 'accept' && behaviour.thingName ? behaviour.thingName(parameters) : String(parameters.ThingName);
    await answer(`${topic}/accepted`, { deviceConfiguration: emulator.deviceConfiguration, thingName });
  }

  client.on('message', (topic, payload) => {
    if (topic.startsWith('fieldgate/')) {
      emulator.telemetry.push({ topic, text: payload.toString() });
      return;
    }
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    emulator.requests.push({ topic, body });
    void handle(topic, body);
  });
  return emulator;
}
