import type { CloudConfig } from '../../shared/config/cloud.js';
import { AWS_IOT_CORE, urlPort } from '../../shared/config/cloud-profiles.js';
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
      };
    case 'generic':
      return { tls: {}, cnIsIdentity: true };
  }
}

/** How `cloud.profile` maps the gateway's messages onto the platform's topics and payloads. */
export function createWire(config: CloudConfig, gatewayId: string): PlatformWire {
  switch (config.profile) {
    case 'thingsboard':
      return new ThingsboardWire({ config, gatewayId });
    case 'aws-iot-core':
    case 'generic':
      return new GenericWire({ config, gatewayId });
  }
}
