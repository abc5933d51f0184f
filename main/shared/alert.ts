export type AlertSeverity = 'info' | 'warning' | 'critical';

/** The kinds each part may raise; the key is the `type` on the wire (README, topics table). */
export interface AlertKinds {
  'buffer-alert': 'disk-full' | 'io-error' | 'corrupt-quarantined' | 'capacity' | 'recovered';
  'identity-alert': 'cert-expiring' | 'cert-expired' | 'clock-wrong' | 'rotation-failed' | 'rotated' | 'hardware-key-unavailable' | 'hardware-key-restored';
  'ble-alert': 'counters-unreadable' | 'counter-went-back' | 'counter-reset';
  'uplink-alert': 'readings-refused' | 'cloud-failing';
  'sensor-alert': 'sensor-silent' | 'sensor-flooding';
  'storage-alert': 'buffer-filling' | 'buffer-stale' | 'disk-low';
  'api-alert': 'login-failures';
  'ota-alert': 'rolled-back' | 'trial-pending';
}

export type AlertType = keyof AlertKinds;

/** What a part reports; the alerts component (main/alerts) turns it into a raise, a clear or a notice. */
export type Alert<T extends AlertType = AlertType> = {
  [K in T]: { type: K; kind: AlertKinds[K]; severity: AlertSeverity; message: string; ts: number };
}[T];

/** An alert as the part that owns it raises it; the composition root adds the `type`. */
export type RaisedAlert<T extends AlertType> = Omit<Alert<T>, 'type'>;

/** A condition that is true now: raising it again while active updates it (key `<kind>:<subject>`). */
export interface AlertCondition {
  type: AlertType;
  kind: string;
  /** What it is about: a sensor id, `buffer`, `disk`, `uplink`, `identity`, `api`, `ota`. */
  subject: string;
  severity: AlertSeverity;
  message: string;
  /** The fix, when the message does not say it. */
  hint?: string;
}

/** What `<prefix>/<gatewayId>/alerts` and the API say happened to an alert. A notice is raised and cleared at once (an event, not a condition). */
export type AlertEventName = 'raise' | 'clear' | 'notice';

export function alertKey(kind: string, subject: string): string {
  return `${kind}:${subject}`;
}
