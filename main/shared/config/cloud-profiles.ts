import { z } from 'zod';

/**
 * `cloud.profile`: which platform's conventions and limits the uplink follows. Only complete
 * profiles are listed; `generic` is any MQTT broker with the README's topic tree.
 */
export const cloudProfileSchema = z
  .enum(['generic', 'aws-iot-core', 'azure-iot-hub', 'thingsboard'], { error: 'expected "generic", "aws-iot-core", "azure-iot-hub" or "thingsboard"' })
  .default('generic');

export type CloudProfileName = z.infer<typeof cloudProfileSchema>;

/** AWS IoT Core's documented message broker limits and connection rules (AWS IoT Core endpoints and quotas; Protocols). */
export const AWS_IOT_CORE = {
  /** Publish payload, hard limit. */
  maxPayloadBytes: 128 * 1024,
  /** Publish requests per second per connection. */
  maxPublishesPerSecond: 100,
  /** Unacknowledged QoS 1 publishes per client. */
  maxInFlight: 100,
  /** Forward slashes in a topic name (the Basic Ingest prefix `$aws/rules/<rule>/` aside, which fieldgate does not use). */
  maxTopicSlashes: 7,
  /** MQTT with an X.509 client certificate: 8883, or 443 with this ALPN protocol name. */
  ports: [8883, 443] as const,
  alpnOn443: 'x-amzn-mqtt-ca',
  /** Thing names; the client id must be the thing name. */
  thingName: /^[a-zA-Z0-9:_-]{1,128}$/,
};

/** Why AWS IoT Core would refuse this topic name, or undefined when it takes it. */
export function awsTopicProblem(topic: string): string | undefined {
  if (/^\$aws\//i.test(topic)) return `AWS IoT Core reserves topics under "$aws/" for its own services ("${topic}")`;
  if (topic.startsWith('$')) return `AWS IoT Core reserves topics starting with "$" ("${topic}")`;
  const slashes = topic.split('/').length - 1;
  if (slashes > AWS_IOT_CORE.maxTopicSlashes) return `AWS IoT Core allows at most ${AWS_IOT_CORE.maxTopicSlashes} slashes in a topic; "${topic}" has ${slashes}`;
  return undefined;
}

/** The port of an `mqtts://` or `wss://` URL, with the scheme's default. */
export function urlPort(url: string): number {
  const match = /^([a-z]+):\/\/(?:\[[^\]]*\]|[^/:?#]*)(?::(\d+))?/i.exec(url);
  if (match?.[2]) return Number(match[2]);
  return match?.[1]?.toLowerCase() === 'wss' ? 443 : 8883;
}

interface AwsCloudFacts {
  url: string;
  clientId?: string | undefined;
  inFlight: number;
  batch: { maxBytes: number };
}

/** `cloud.*` rules of the aws-iot-core profile, each naming the key and the platform's limit. */
export function checkAwsIotCore(cloud: AwsCloudFacts, ctx: z.core.$RefinementCtx): void {
  const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: 'custom', path, input, message });
  if (!/^mqtts:\/\//i.test(cloud.url)) {
    issue(
      ['url'],
      cloud.url,
      'AWS IoT Core takes X.509 client certificates over MQTT on TLS only: use mqtts://<endpoint>-ats.iot.<region>.amazonaws.com:8883 (or :443); MQTT over WebSockets needs SigV4 signing, which fieldgate does not do',
    );
  } else {
    const port = urlPort(cloud.url);
    if (!(AWS_IOT_CORE.ports as readonly number[]).includes(port)) {
      issue(['url'], cloud.url, `AWS IoT Core takes MQTT with a client certificate on port 8883, or on 443 with ALPN "${AWS_IOT_CORE.alpnOn443}" (set automatically); port ${port} is not served`);
    }
  }
  if (cloud.clientId !== undefined) {
    issue(['clientId'], cloud.clientId, 'with cloud.profile aws-iot-core the client id is the thing name, which is gateway.id: remove cloud.clientId');
  }
  if (cloud.inFlight > AWS_IOT_CORE.maxInFlight) {
    issue(['inFlight'], cloud.inFlight, `AWS IoT Core allows at most ${AWS_IOT_CORE.maxInFlight} unacknowledged publishes per client: set cloud.inFlight to ${AWS_IOT_CORE.maxInFlight} or less`);
  }
  if (cloud.batch.maxBytes > AWS_IOT_CORE.maxPayloadBytes) {
    issue(['batch', 'maxBytes'], cloud.batch.maxBytes, `AWS IoT Core accepts payloads up to 128 KB: set cloud.batch.maxBytes to ${AWS_IOT_CORE.maxPayloadBytes} or less`);
  }
}

/** Rules that need gateway.id next to cloud: under aws-iot-core gateway.id is the thing name and the MQTT client id. */
export function checkProfileGateway(config: { gateway: { id: string }; cloud?: { profile: CloudProfileName; topicPrefix: string } | undefined }, ctx: z.core.$RefinementCtx): void {
  const { cloud, gateway } = config;
  if (cloud?.profile !== 'aws-iot-core') return;
  if (!AWS_IOT_CORE.thingName.test(gateway.id)) {
    ctx.addIssue({
      code: 'custom',
      path: ['gateway', 'id'],
      input: gateway.id,
      message: 'with cloud.profile aws-iot-core gateway.id is the thing name, and AWS IoT Core thing names have only letters, digits, ":", "_" and "-"',
    });
  }
  // The deepest topics the uplink uses: `<prefix>/<thing>/readings/<sensor>` and `<prefix>/<thing>/cmd-result/<command>`.
  const problem = awsTopicProblem(`${cloud.topicPrefix}/${gateway.id}/readings/sensor`);
  if (problem) ctx.addIssue({ code: 'custom', path: ['cloud', 'topicPrefix'], input: cloud.topicPrefix, message: problem });
}
