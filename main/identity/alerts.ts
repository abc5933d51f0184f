/** Something about the device identity an operator must see; the composition root routes it to logs and `<prefix>/<id>/alerts`. */
export interface IdentityAlert {
  kind: 'cert-expiring' | 'cert-expired' | 'clock-wrong' | 'rotation-failed' | 'rotated';
  severity: 'info' | 'warning' | 'critical';
  message: string;
  ts: number;
}

export type IdentityAlertSink = (alert: IdentityAlert) => void;

/** The JSON published on `<prefix>/<gatewayId>/alerts`, shaped like the buffer's alerts. */
export function identityAlertPayload(gatewayId: string, alert: IdentityAlert): Record<string, string> {
  return { type: 'identity-alert', gateway: gatewayId, kind: alert.kind, severity: alert.severity, message: alert.message, ts: new Date(alert.ts).toISOString() };
}
