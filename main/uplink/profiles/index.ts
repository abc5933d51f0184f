import type { Logger } from '../../log/logger.js';
import { AZURE_IOT_HUB } from '../../shared/config/cloud-profile-azure.js';
import type { CloudConfig } from '../../shared/config/cloud.js';
import { AWS_IOT_CORE, urlPort } from '../../shared/config/cloud-profiles.js';
import { AzureIotHubWire } from './azure-iot-hub.js';
import { GenericWire } from './generic.js';
import { THINGSBOARD } from '../../shared/config/cloud-profile-thingsboard.js';
import { ThingsboardWire } from './thingsboard.js';
import type { PlatformWire } from './wire.js';

/** What a cloud profile changes in how the uplink connects and sends; `generic` changes nothing. */
export interface ProfileLimits {
  /** Extra TLS options for every connect (e.g. the ALPN protocol a platform requires). */
  tls: { ALPNProtocols?: string[] };
  /** Cap on PUBLISH packets per second per connection; the drain follows it. */
  maxPublishesPerSecond?: number;
  /** Cap on a PUBLISH packet's size, applied like an MQTT 5 Maximum Packet Size even when the broker announces none. */
  maxPacketBytes?: number;
  /** Cap on the in-flight window (cloud.inFlight is validated against it too). */
  maxInFlight?: number;
  /**
   * Whether the broker identifies the gateway by its certificate's CN (the README's ACL), so a CN
   * other than gateway.id is an error. AWS IoT Core goes by the client id and the certificate
   * attached to the thing; certificates AWS issues have the CN "AWS IoT Certificate".
   */
  cnIsIdentity: boolean;
  /** The platform accepts only the gateway's own client id and drops its older connection on a new one, so a test connection takes over the uplink's. */
  oneConnectionPerClientId?: boolean;
  /** False where the gateway authenticates otherwise (ThingsBoard's access token): no client certificate is presented, the CA alone is read. */
  clientCertificate?: false;
}

/** The platform limits of `cloud.profile`, which the uplink applies without further configuration. */
export function profileLimits(config: Pick<CloudConfig, 'profile' | 'url' | 'accessTokenFile'>): ProfileLimits {
  switch (config.profile) {
    case 'thingsboard':
      return { tls: {}, maxPacketBytes: THINGSBOARD.maxPayloadBytes, cnIsIdentity: false, ...(config.accessTokenFile !== undefined && { clientCertificate: false as const }) };
    case 'aws-iot-core':
      return {
        tls: urlPort(config.url) === 443 ? { ALPNProtocols: [AWS_IOT_CORE.alpnOn443] } : {},
        maxPublishesPerSecond: AWS_IOT_CORE.maxPublishesPerSecond,
        maxPacketBytes: AWS_IOT_CORE.maxPayloadBytes,
        maxInFlight: AWS_IOT_CORE.maxInFlight,
        cnIsIdentity: false,
        // The recommended policy allows iot:Connect only for the thing name as client id (thing policy variables need it).
        oneConnectionPerClientId: true,
      };
    case 'azure-iot-hub':
      // IoT Hub quotas and throttling: device-to-cloud messages up to 256 KB. Its send and twin
      // throttles are per hub (S1: 100 sends/s, 50 twin updates/s), not per device, so no cap per
      // connection here; no in-flight limit is documented for MQTT 3.1.1 (the Receive Maximum of 16
      // belongs to the deprecated MQTT 5 preview). MQTT support: one connection per device id, five
      // subscriptions per device. The CN matters only for CA-signed device certificates (it must be the
      // device id) and IoT Hub refuses a wrong one at CONNECT, so a mismatch cannot lose readings.
      return { tls: {}, maxPacketBytes: AZURE_IOT_HUB.maxMessageBytes, cnIsIdentity: false, oneConnectionPerClientId: true };
    case 'generic':
      return { tls: {}, cnIsIdentity: true };
  }
}

/** How `cloud.profile` maps the gateway's messages onto the platform's topics and payloads. */
export function createWire(config: CloudConfig, gatewayId: string, log: Logger): PlatformWire {
  switch (config.profile) {
    case 'azure-iot-hub':
      return new AzureIotHubWire({ config, gatewayId, log });
    case 'thingsboard':
      return new ThingsboardWire({ config, gatewayId });
    case 'aws-iot-core':
    case 'generic':
      return new GenericWire({ config, gatewayId });
  }
}
