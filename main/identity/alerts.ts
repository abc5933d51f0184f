/** Something about the device identity an operator must see; the composition root routes it to logs and `<prefix>/<id>/alerts`. */
export interface IdentityAlert {
  kind: 'cert-expiring' | 'cert-expired' | 'clock-wrong' | 'rotation-failed' | 'rotated';
  severity: 'info' | 'warning' | 'critical';
  message: string;
  ts: number;
}

export type IdentityAlertSink = (alert: IdentityAlert) => void;
