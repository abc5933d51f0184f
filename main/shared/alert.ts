/** Something an operator must see, published on `<prefix>/<gatewayId>/alerts` (queued while offline). */
export interface GatewayAlert {
  /** The part that raised it: `buffer-alert`, `identity-alert`. */
  type: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  ts: number;
}
