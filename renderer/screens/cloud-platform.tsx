import { AZURE_IOT_HUB } from '../../main/shared/config/cloud-profile-azure.js';
import { AWS_IOT_CORE, cloudProfileSchema, type CloudProfileName } from '../../main/shared/config/cloud-profiles.js';
import { THINGSBOARD } from '../../main/shared/config/cloud-profile-thingsboard.js';

/** The choices are the config schema's `cloud.profile` enum: a profile added there shows up here. */
export const CLOUD_PLATFORMS: readonly CloudProfileName[] = cloudProfileSchema.unwrap().options;

interface PlatformNotes {
  title: string;
  /** One line: what the platform is. */
  description: string;
  /** What choosing it changes, in a sentence. */
  changes?: string;
  urlPlaceholder?: string;
  /** Present when the platform sets the client id itself: what the client id then is. */
  fixedClientId?: string;
  /** True when the platform's topics are its own, so `cloud.topicPrefix` does not apply. */
  fixedTopics?: boolean;
  /** Present when the platform takes an access token file (`cloud.accessTokenFile`): the field's hint. */
  accessTokenHint?: string;
}

const GENERIC_URL = 'mqtts://broker.example.com:8883';

const NOTES: Partial<Record<CloudProfileName, PlatformNotes>> = {
  generic: {
    title: 'Any MQTT broker',
    description: 'Mosquitto, EMQX, HiveMQ, VerneMQ and the like.',
    changes: "The fieldgate topic tree; the broker should know the gateway by its certificate's CN, which must be the gateway id.",
    urlPlaceholder: GENERIC_URL,
  },
  'aws-iot-core': {
    title: 'AWS IoT Core',
    description: "Amazon's managed MQTT broker, with X.509 client certificates.",
    changes:
      `Client id = thing name = gateway id; port ${AWS_IOT_CORE.ports.join(' or ')} (ALPN set for you on 443); ` +
      `at most ${AWS_IOT_CORE.maxPublishesPerSecond} messages/s, ${AWS_IOT_CORE.maxInFlight} unacknowledged and ${AWS_IOT_CORE.maxPayloadBytes / 1024} KB per message, applied automatically.`,
    urlPlaceholder: 'mqtts://<endpoint>-ats.iot.<region>.amazonaws.com:8883',
    fixedClientId: 'the thing name, which is the gateway id',
  },
  'azure-iot-hub': {
    title: 'Azure IoT Hub',
    description: "Microsoft's managed IoT hub, with X.509 device certificates.",
    changes:
      `Client id = device id = gateway id; MQTT 3.1.1 on port ${AZURE_IOT_HUB.mqttPort}, or WebSockets on ${AZURE_IOT_HUB.webSocketPort} at ${AZURE_IOT_HUB.webSocketPath}; ` +
      `the status goes to the device twin; messages up to ${AZURE_IOT_HUB.maxMessageBytes / 1024} KB. Test connection briefly takes over the running connection.`,
    urlPlaceholder: 'mqtts://<hub>.azure-devices.net:8883',
    fixedClientId: 'the device id, which is the gateway id',
    fixedTopics: true,
  },
  thingsboard: {
    title: 'ThingsBoard',
    description: 'ThingsBoard CE, PE or Cloud, through its MQTT gateway API.',
    changes:
      "The gateway is a ThingsBoard gateway device named like the gateway id, each sensor a device it connects; the status goes to the gateway's attributes; " +
      `an access token or X.509; messages up to ${THINGSBOARD.maxPayloadBytes / 1024} KB.`,
    urlPlaceholder: 'mqtts://thingsboard.example.com:8883',
    fixedTopics: true,
    accessTokenHint: "A file on the gateway holding the gateway device's access token, readable by its owner only. With it, leave the client certificate and key empty.",
  },
};

/** The notes for a profile; one without an entry is shown by its name. */
export function platformNotes(profile: CloudProfileName): PlatformNotes {
  return NOTES[profile] ?? { title: profile, description: "Test connection and Save check the settings against this platform's rules." };
}

export function urlPlaceholder(profile: CloudProfileName): string {
  return platformNotes(profile).urlPlaceholder ?? GENERIC_URL;
}

interface PlatformChoiceProps {
  value: CloudProfileName;
  onValue: (profile: CloudProfileName) => void;
  error?: string | undefined;
}

/** One radio card per profile, the selected one's consequences below. */
export function PlatformChoice({ value, onValue, error }: PlatformChoiceProps) {
  const changes = platformNotes(value).changes;
  const describedBy = [changes && 'platform-changes', error && 'platform-error'].filter(Boolean).join(' ') || undefined;
  return (
    <fieldset aria-describedby={describedBy}>
      <legend>Platform</legend>
      <div class="choices">
        {CLOUD_PLATFORMS.map((profile) => {
          const notes = platformNotes(profile);
          return (
            <label class="choice" key={profile} data-profile={profile}>
              <input type="radio" name="profile" value={profile} checked={value === profile} onChange={() => onValue(profile)} />
              <span>
                <strong>{notes.title}</strong>
                <span class="muted">{notes.description}</span>
              </span>
            </label>
          );
        })}
      </div>
      {changes && (
        <p class="hint" id="platform-changes">
          {changes}
        </p>
      )}
      {error && (
        <p class="field-error" id="platform-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
