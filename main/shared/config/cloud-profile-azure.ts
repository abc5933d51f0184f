import type { z } from 'zod';
import type { CloudProfileName } from './cloud-profiles.js';

/**
 * Azure IoT Hub's documented rules for devices speaking MQTT ("Communicate with an IoT hub using
 * the MQTT protocol"; "IoT Hub quotas and throttling", Other limits).
 */
export const AZURE_IOT_HUB = {
  /** MQTT v3.1.1 on 8883, or over WebSockets on 443; no MQTT 5 outside a deprecated preview. */
  protocolVersion: 4 as const,
  mqttPort: 8883,
  webSocketPort: 443,
  webSocketPath: '/$iothub/websocket',
  /** The user name's api-version, as in Microsoft's examples. */
  apiVersion: '2021-04-12',
  /** Device-to-cloud message, maximum size. */
  maxMessageBytes: 256 * 1024,
  /** The hub times a client out after 1.5 keep-alives but at most 1767 s (the Azure load balancer's idle timeout): 1767 / 1.5. */
  maxKeepaliveSeconds: 1177,
};

interface AzureCloudFacts {
  url: string;
  protocolVersion?: 4 | 5 | undefined;
  clientId?: string | undefined;
  keepaliveSeconds: number;
  batch: { maxBytes: number };
}

/** The MQTT version a profile uses when `cloud.protocolVersion` is omitted: 3.1.1 for IoT Hub, else MQTT 5. */
export function defaultProtocolVersion(profile: CloudProfileName): 4 | 5 {
  return profile === 'azure-iot-hub' ? AZURE_IOT_HUB.protocolVersion : 5;
}

/** The host name of an `mqtts://` or `wss://` URL (the hub's, e.g. `contoso.azure-devices.net`). */
export function urlHost(url: string): string {
  return /^[a-z]+:\/\/([^/:?#]*)/i.exec(url)?.[1] ?? '';
}

const HUB = '<hub>.azure-devices.net';

/** `cloud.*` rules of the azure-iot-hub profile, each naming the key, IoT Hub's rule and the fix. */
export function checkAzureIotHub(cloud: AzureCloudFacts, ctx: z.core.$RefinementCtx): void {
  const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: 'custom', path, input, message });
  const urlProblem = azureUrlProblem(cloud.url);
  if (urlProblem) issue(['url'], cloud.url, urlProblem);
  if (cloud.protocolVersion === 5) {
    issue(['protocolVersion'], cloud.protocolVersion, 'Azure IoT Hub speaks MQTT 3.1.1 only: remove cloud.protocolVersion or set it to 4');
  }
  if (cloud.clientId !== undefined) {
    issue(['clientId'], cloud.clientId, 'with cloud.profile azure-iot-hub the client id is the device id, which is gateway.id: remove cloud.clientId');
  }
  if (cloud.keepaliveSeconds > AZURE_IOT_HUB.maxKeepaliveSeconds) {
    issue(
      ['keepaliveSeconds'],
      cloud.keepaliveSeconds,
      `Azure IoT Hub drops a connection idle for 29.45 minutes, whatever the keep-alive: set cloud.keepaliveSeconds to ${AZURE_IOT_HUB.maxKeepaliveSeconds} or less`,
    );
  }
  if (cloud.batch.maxBytes > AZURE_IOT_HUB.maxMessageBytes) {
    issue(['batch', 'maxBytes'], cloud.batch.maxBytes, `Azure IoT Hub accepts device-to-cloud messages up to 256 KB: set cloud.batch.maxBytes to ${AZURE_IOT_HUB.maxMessageBytes} or less`);
  }
}

function azureUrlProblem(url: string): string | undefined {
  const match = /^([a-z]+):\/\/[^/:?#]+(?::(\d+))?([^]*)$/i.exec(url);
  const scheme = match?.[1]?.toLowerCase();
  const rest = match?.[3] ?? '';
  if (scheme === 'mqtts') {
    const port = Number(match?.[2] ?? AZURE_IOT_HUB.mqttPort);
    if (port !== AZURE_IOT_HUB.mqttPort) return `Azure IoT Hub serves MQTT on port 8883 only (or MQTT over WebSockets: wss://${HUB}${AZURE_IOT_HUB.webSocketPath}); port ${port} is not served`;
    if (rest !== '' && rest !== '/') return `Azure IoT Hub's MQTT endpoint has no path: use mqtts://${HUB}:8883`;
    return undefined;
  }
  if (scheme === 'wss') {
    const port = Number(match?.[2] ?? AZURE_IOT_HUB.webSocketPort);
    if (port !== AZURE_IOT_HUB.webSocketPort || rest !== AZURE_IOT_HUB.webSocketPath) {
      return `Azure IoT Hub serves MQTT over WebSockets at wss://${HUB}${AZURE_IOT_HUB.webSocketPath} (port 443) only`;
    }
    return undefined;
  }
  return `Azure IoT Hub takes MQTT over TLS only: use mqtts://${HUB}:8883, or wss://${HUB}${AZURE_IOT_HUB.webSocketPath} where port 8883 is blocked`;
}
