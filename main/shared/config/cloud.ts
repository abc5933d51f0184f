import { z } from 'zod';
import { checkAzureIotHub, defaultProtocolVersion } from './cloud-profile-azure.js';
import { checkAwsIotCore, cloudProfileSchema } from './cloud-profiles.js';
import { checkThingsboard } from './cloud-profile-thingsboard.js';
import { durationMs, filePath, identifier } from './common.js';

const batchSchema = z
  .strictObject({
    /** Readings per MQTT message (one sensor per message, since the topic names the sensor). */
    maxReadings: z.number().int().min(1, { error: 'expected an integer >= 1' }).max(10_000, { error: 'expected an integer <= 10000' }).default(100),
    /** Payload bytes per message; a single reading larger than this is still sent alone. */
    maxBytes: z.number().int().min(256, { error: 'expected an integer >= 256' }).max(256 * 1024 * 1024, { error: 'expected at most 268435456 (the MQTT limit)' }).default(64 * 1024),
  })
  .prefault({});

const backoffSchema = z
  .strictObject({
    /** First reconnect delay cap; each failure doubles it (full jitter picks uniformly below the cap). */
    initialMs: durationMs.min(10, { error: 'expected at least 10 ms' }).default(1_000),
    maxMs: durationMs.min(10, { error: 'expected at least 10 ms' }).default(60_000),
    /** A connection that lasted this long resets the backoff to `initialMs`. */
    stableMs: durationMs.default(30_000),
  })
  .prefault({})
  .refine((b) => b.maxMs >= b.initialMs, { error: 'expected backoff.maxMs >= backoff.initialMs' });

/** True for the URL schemes that use TLS (`mqtts://`, `wss://`). */
export function isTlsUrl(url: string): boolean {
  return /^(mqtts|wss):/.test(url);
}

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/i;

/** The URL without `user:password@`, for logs, status and error messages. */
export function withoutUserinfo(url: string): string {
  return url.replace(USERINFO, '$1');
}

const brokerUrl = z.string().superRefine((url, ctx) => {
  if (USERINFO.test(url)) {
    ctx.addIssue({
      code: 'custom',
      input: url.replace(USERINFO, '$1***@'),
      message:
        'a user name or password does not belong in the URL (it would be logged and shown): remove the part before "@"; ' +
        'the gateway authenticates with its client certificate (certFile/keyFile or the on-box identity)',
    });
  } else if (!/^(mqtts?|wss?):\/\/[^\s/]+/.test(url)) {
    ctx.addIssue({ code: 'custom', input: url, message: 'expected a broker URL such as mqtts://broker.example.com:8883' });
  }
});

export const cloudSchema = z
  .strictObject({
    /** The platform whose topics, identity and limits the uplink follows (see cloud-profiles.ts). */
    profile: cloudProfileSchema,
    url: brokerUrl,
    /** Plaintext `mqtt://` is refused unless this is true; even then every connect logs a warning. */
    allowInsecure: z.boolean().default(false),
    /** The CA that signed the broker's certificate (and, usually, the gateway's). */
    caFile: filePath.optional(),
    /** Client certificate and key: the on-box identity's files, or an externally managed pair. */
    certFile: filePath.optional(),
    keyFile: filePath.optional(),
    /** cloud.profile thingsboard: a file (0600) holding the gateway device's access token, read at every connect. */
    accessTokenFile: filePath.optional(),
    topicPrefix: identifier.default('fieldgate'),
    /** Omitted: the profile's (MQTT 5; 3.1.1 for azure-iot-hub), filled in by the transform below. */
    protocolVersion: z.union([z.literal(5), z.literal(4)], { error: 'expected 5 (MQTT 5) or 4 (MQTT 3.1.1)' }).optional(),
    /** MQTT client id; defaults to gateway.id. */
    clientId: identifier.optional(),
    keepaliveSeconds: z.number().int().min(5, { error: 'expected an integer >= 5' }).max(65_535).default(30),
    connectTimeoutMs: durationMs.min(1_000, { error: 'expected at least 1000 ms' }).default(15_000),
    batch: batchSchema,
    /** Messages published but not yet acknowledged (PUBACK) at any time. */
    inFlight: z.number().int().min(1, { error: 'expected an integer >= 1' }).max(1_000, { error: 'expected an integer <= 1000' }).default(32),
    /** `fifo`: oldest first, each sensor's readings arrive in seq order. `live-first`: newest first, the cloud reorders by seq. */
    drainOrder: z.enum(['fifo', 'live-first'], { error: 'expected "fifo" or "live-first"' }).default('fifo'),
    /** Cap on readings sent per second, so a fleet reconnecting at once does not flood the broker. Omit for no cap. */
    maxReadingsPerSecond: z.number().positive({ error: 'expected a number > 0 (omit the key for no cap)' }).optional(),
    backoff: backoffSchema,
    /** How often the retained status (with the buffer depth) is refreshed while connected. */
    statusIntervalMs: durationMs.min(100, { error: 'expected at least 100 ms' }).default(60_000),
  })
  .superRefine((cloud, ctx) => {
    if (cloud.profile === 'aws-iot-core') checkAwsIotCore(cloud, ctx);
    if (cloud.profile === 'azure-iot-hub') checkAzureIotHub(cloud, ctx);
    checkThingsboard(cloud, ctx);
    if (/^(mqtt|ws):/.test(cloud.url) && !cloud.allowInsecure) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        input: withoutUserinfo(cloud.url),
        message: 'plaintext MQTT is refused: use mqtts:// with caFile, certFile and keyFile, or set cloud.allowInsecure: true',
      });
    }
    if (isTlsUrl(cloud.url)) {
      if (!cloud.caFile) {
        ctx.addIssue({
          code: 'custom',
          path: ['caFile'],
          input: undefined,
          message: 'mutual TLS needs cloud.caFile: give the path to the PEM file of the CA that signed the broker certificate',
        });
      }
      // Both omitted means the on-box identity (<dataDir>/identity); one without the other is a mistake.
      if (Boolean(cloud.certFile) !== Boolean(cloud.keyFile)) {
        const missing = cloud.certFile ? 'keyFile' : 'certFile';
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          input: undefined,
          message: `cloud.${missing} is needed with cloud.${missing === 'keyFile' ? 'certFile' : 'keyFile'}; omit both to use the on-box identity in <gateway.dataDir>/identity`,
        });
      }
    }
  })
  .transform((cloud) => ({ ...cloud, protocolVersion: cloud.protocolVersion ?? defaultProtocolVersion(cloud.profile) }));

export type CloudConfig = z.infer<typeof cloudSchema>;

// ---- Internal tunables of the uplink ----
// Not configurable (no key in the YAML), listed here beside the user-facing defaults above so each
// has one home. The user-facing ones: cloud.inFlight (the in-flight window: publishes awaiting
// their PUBACK, lowered to the broker's Receive Maximum), cloud.batch.maxReadings and maxBytes (one
// MQTT message), cloud.maxReadingsPerSecond, cloud.backoff (reconnect delays), statusIntervalMs.
// `npm run bench` is the check after changing one.

// Sending (main/uplink/sender.ts)
/** Readings per buffer lease at most, bounding memory while a large backlog drains (a lease fills the free window: `batch.maxReadings` × free slots). */
export const MAX_LEASE_READINGS = 5_000;
/** With nothing to send, the buffer is looked at again this often, besides every wake. */
export const IDLE_POLL_MS = 250;
/** Drop records are rare: the buffer is asked for them at most this often unless the last look filled the window. */
export const DROP_CHECK_MS = 1_000;

// Refused readings (main/uplink/refusals.ts, main/uplink/sender.ts)
/** Refusals of a reading sent alone before it is set aside (drop reason `refused`). */
export const MAX_REFUSALS = 3;
/** Readings whose refusals are remembered at most; the oldest are forgotten first (they start over at 0 refusals). */
export const MAX_TRACKED_REFUSALS = 10_000;
/**
 * Readings held back (refused every time, or larger than the broker's Maximum Packet Size) while
 * the broker accepts no other readings; beyond this the broker seems to refuse everything: their
 * counts are dropped, the connection ends with an error and all of them stay in the buffer.
 */
export const MAX_HELD_READINGS = 16;

// Connection (main/uplink/uplink.ts, main/uplink/session.ts)
/** A graceful stop waits this long for the PUBACKs of everything pending, then as long again for the offline status's. */
export const STOP_DRAIN_MS = 2_000;
/**
 * Our own MQTT 5 Maximum Packet Size, announced in CONNECT: the broker must not send us anything
 * larger (inbound commands are at most MAX_COMMAND_BYTES, certificate messages a few KiB). The
 * session drops the connection as soon as a larger packet's header arrives, with MQTT 3.1.1 too.
 */
export const OWN_MAXIMUM_PACKET_SIZE = 65_536;
/** Payload of an inbound `…/cmd/<name>` command at most; a larger one is rejected with an error reply. */
export const MAX_COMMAND_BYTES = 16 * 1024;
