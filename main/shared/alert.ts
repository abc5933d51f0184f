export type AlertSeverity = 'info' | 'warning' | 'critical';

/** The kinds each part may raise; the key is the `type` on the wire (README, topics table). */
export interface AlertKinds {
  'buffer-alert': 'disk-full' | 'io-error' | 'corrupt-quarantined' | 'capacity' | 'recovered';
  'identity-alert': 'cert-expiring' | 'cert-expired' | 'clock-wrong' | 'rotation-failed' | 'rotated';
  'ble-alert': 'counters-unreadable' | 'counter-went-back' | 'counter-reset';
  'uplink-alert': 'readings-refused';
}

export type AlertType = keyof AlertKinds;

/** Something an operator must see, published on `<prefix>/<gatewayId>/alerts` (queued while offline). */
export type Alert<T extends AlertType = AlertType> = {
  [K in T]: { type: K; kind: AlertKinds[K]; severity: AlertSeverity; message: string; ts: number };
}[T];

/** An alert as the part that owns it raises it; the composition root adds the `type`. */
export type RaisedAlert<T extends AlertType> = Omit<Alert<T>, 'type'>;
