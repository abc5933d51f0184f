import type { z } from 'zod';

/**
 * ThingsBoard's MQTT transport (CE, PE and Cloud), as its documentation and default
 * configuration describe it (thingsboard.io/docs/reference/mqtt-api/,
 * thingsboard.io/docs/reference/gateway-mqtt-api/, application/src/main/resources/thingsboard.yml
 * and the transport's MqttTransportHandler in github.com/thingsboard/thingsboard):
 * - "MQTT Device API": QoS 0 and 1 only; the access token is the MQTT user name (no password);
 *   a client that presents a certificate over TLS is authenticated by that certificate alone
 *   (X.509), and the token is then ignored.
 * - "MQTT Gateway API": `v1/gateway/connect`, `v1/gateway/telemetry` (`{"<device>":[{"ts","values"}]}`),
 *   `v1/gateway/rpc`; the gateway is itself a device on `v1/devices/me/…` (attributes, telemetry,
 *   server-side RPC on `v1/devices/me/rpc/request/+`, answered on `v1/devices/me/rpc/response/<id>`).
 * - thingsboard.yml `transport.mqtt.netty.max_payload_size: "${NETTY_MAX_PAYLOAD_SIZE:65536}"`:
 *   larger messages make the transport close the connection. Netty counts the bytes after the
 *   fixed header; fieldgate caps the whole packet at that number, a few bytes below the limit.
 * - MQTT 3.1.1, and MQTT 5 on releases whose transport speaks it; no retained messages (nothing
 *   is kept for later subscribers), no MQTT over WebSockets on the device transport.
 */
export const THINGSBOARD = {
  maxPayloadBytes: 65_536,
  topics: {
    connect: 'v1/gateway/connect',
    disconnect: 'v1/gateway/disconnect',
    telemetry: 'v1/gateway/telemetry',
    gatewayRpc: 'v1/gateway/rpc',
    attributes: 'v1/devices/me/attributes',
    ownTelemetry: 'v1/devices/me/telemetry',
    rpcRequests: 'v1/devices/me/rpc/request/+',
    rpcRequestPrefix: 'v1/devices/me/rpc/request/',
    rpcResponsePrefix: 'v1/devices/me/rpc/response/',
  },
  /** The device type (device profile) sensors are created with by `v1/gateway/connect`. */
  sensorDeviceType: 'fieldgate-sensor',
  /**
   * The telemetry key of a reading's per-sensor seq. Quantity names start with a letter
   * (QUANTITY_PATTERN), so a key starting with "_" never collides with a sensor's own values.
   */
  seqKey: '_seq',
};

/** The ThingsBoard device name of a sensor: `<gateway.id>/<sensor id>`, unique across a tenant's gateways. */
export function thingsboardDeviceName(gatewayId: string, sensorId: string): string {
  return `${gatewayId}/${sensorId}`;
}

interface ThingsboardCloudFacts {
  profile: string;
  url: string;
  accessTokenFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  topicPrefix: string;
  batch: { maxBytes: number };
}

/** `cloud.*` rules of the thingsboard profile (and `cloud.accessTokenFile`, which only it uses), each naming the key and the fix. */
export function checkThingsboard(cloud: ThingsboardCloudFacts, ctx: z.core.$RefinementCtx): void {
  const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: 'custom', path, input, message });
  if (cloud.profile !== 'thingsboard') {
    if (cloud.accessTokenFile !== undefined) {
      issue(['accessTokenFile'], cloud.accessTokenFile, 'an access token is ThingsBoard\'s device credential: set cloud.profile: thingsboard, or remove cloud.accessTokenFile');
    }
    return;
  }
  if (/^wss?:/i.test(cloud.url)) {
    issue(['url'], cloud.url, "ThingsBoard's MQTT transport does not serve MQTT over WebSockets: use mqtts://<your ThingsBoard host>:8883");
  }
  if (cloud.topicPrefix !== 'fieldgate') {
    issue(['topicPrefix'], cloud.topicPrefix, "ThingsBoard's topics are fixed (v1/gateway/…, v1/devices/me/…) and take no prefix: remove cloud.topicPrefix");
  }
  if (cloud.accessTokenFile !== undefined) {
    for (const key of ['certFile', 'keyFile'] as const) {
      if (cloud[key] === undefined) continue;
      issue(
        [key],
        cloud[key],
        `with cloud.accessTokenFile no client certificate is presented (ThingsBoard authenticates a client that presents one by the certificate and ignores the token): remove cloud.${key}, or remove cloud.accessTokenFile to authenticate by X.509`,
      );
    }
  }
  if (cloud.batch.maxBytes > THINGSBOARD.maxPayloadBytes) {
    issue(
      ['batch', 'maxBytes'],
      cloud.batch.maxBytes,
      `ThingsBoard's MQTT transport takes messages up to ${THINGSBOARD.maxPayloadBytes} bytes by default (NETTY_MAX_PAYLOAD_SIZE) and closes the connection for a larger one: set cloud.batch.maxBytes to ${THINGSBOARD.maxPayloadBytes} or less`,
    );
  }
}
