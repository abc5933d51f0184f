import { alertKey, type Alert, type AlertCondition } from '../shared/alert.js';

/** What a part's alert means for the alerts component. */
export interface LegacyOutcome {
  condition?: AlertCondition;
  /** An event rather than a condition: raised and cleared at once. */
  notice: boolean;
  /** Keys of active alerts it ends (`recovered` ends `disk-full:buffer`). */
  clears: string[];
}

const SUBJECT: Record<Alert['type'], string> = {
  'buffer-alert': 'buffer',
  'identity-alert': 'identity',
  'ble-alert': 'ble',
  'uplink-alert': 'uplink',
  'sensor-alert': 'sensor',
  'storage-alert': 'buffer',
  'api-alert': 'api',
  'ota-alert': 'ota',
};

/** Kinds that describe something that happened, not a state that lasts. */
const NOTICES = new Set(['corrupt-quarantined', 'capacity', 'counters-unreadable', 'counter-went-back', 'counter-reset', 'readings-refused']);

/** The buffer, identity, BLE and uplink report events (`disk-full`, then `recovered`); this maps them to raise, clear or notice. */
export function legacyOutcome(alert: Alert): LegacyOutcome {
  const subject = SUBJECT[alert.type];
  if (alert.kind === 'recovered') return { notice: false, clears: [alertKey('disk-full', subject), alertKey('io-error', subject)] };
  if (alert.kind === 'hardware-key-restored') return { notice: false, clears: [alertKey('hardware-key-unavailable', subject)] };
  if (alert.kind === 'rotated') return { notice: false, clears: ['cert-expiring', 'cert-expired', 'rotation-failed'].map((kind) => alertKey(kind, subject)) };
  const condition: AlertCondition = { type: alert.type, kind: alert.kind, subject, severity: alert.severity, message: alert.message };
  // An expired certificate supersedes the expiring one.
  const clears = alert.kind === 'cert-expired' ? [alertKey('cert-expiring', subject)] : [];
  return { condition, notice: NOTICES.has(alert.kind), clears };
}
