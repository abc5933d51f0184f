/** Every topic the gateway uses lives under `<prefix>/<gatewayId>/`: the broker ACL confines it there. */
export class Topics {
  readonly base: string;

  constructor(prefix: string, gatewayId: string) {
    this.base = `${prefix}/${gatewayId}`;
  }

  readings(sensorId: string): string {
    return `${this.base}/readings/${sensorId}`;
  }

  get status(): string {
    return `${this.base}/status`;
  }

  get alerts(): string {
    return `${this.base}/alerts`;
  }

  get commands(): string {
    return `${this.base}/cmd/#`;
  }

  commandResult(name: string): string {
    return `${this.base}/cmd-result/${name}`;
  }

  /** The command name of an inbound `…/cmd/<name>` topic, or undefined for any other topic. */
  commandName(topic: string): string | undefined {
    const prefix = `${this.base}/cmd/`;
    return topic.startsWith(prefix) ? topic.slice(prefix.length) : undefined;
  }

  /**
   * Whether `topic` is a topic name (no `+`/`#` wildcards, no NUL) strictly under
   * `<prefix>/<gatewayId>/`: the only place the gateway may be asked to publish, e.g. as an MQTT 5
   * Response Topic.
   */
  isOwnTopicName(topic: string): boolean {
    return topic.startsWith(`${this.base}/`) && topic.length > this.base.length + 1 && !/[+#\u0000]/.test(topic);
  }

  /** A control topic for other modules (e.g. certificate rotation): `<prefix>/<gatewayId>/<suffix>`. */
  control(suffix: string): string {
    if (suffix.length === 0 || suffix.startsWith('/') || suffix.endsWith('/')) {
      throw new RangeError(`control topic suffix: expected "a/b" without leading or trailing "/", got ${JSON.stringify(suffix)}`);
    }
    return `${this.base}/${suffix}`;
  }
}

/** MQTT topic filter match (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
