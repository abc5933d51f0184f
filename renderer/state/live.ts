import { signal } from '@preact/signals';
import type { Alert, ApiEvent, GatewayStatus, MethodResult, SensorValues } from '../../main/shared/api.js';
import { gateway, type ConnectionState } from '../client/index.js';
import { call, signOut } from './session.js';

export const connection = signal<ConnectionState>('connecting');
export const status = signal<GatewayStatus | null>(null);
export const values = signal<ReadonlyMap<string, SensorValues>>(new Map());
export const alerts = signal<MethodResult<'alerts'>>({ active: [], recent: [] });
export const history = signal<MethodResult<'history'>>({ stepSeconds: 60, points: [] });
/** Counts resyncs, so screens holding their own data can reload after a reconnect. */
export const resyncs = signal(0);

type Listener = (event: ApiEvent) => void;
const listeners = new Set<Listener>();

/** Screens with their own streams (pairing, preview, OTA, logs) listen here while mounted. */
export function listen(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const HISTORY_REFRESH_MS = 10_000;
let lastHistory = 0;

async function refreshHistory(): Promise<void> {
  lastHistory = Date.now();
  history.value = await call('history', { windowSeconds: 3600 });
}

/** Everything the overview and sensor screens show, fetched again after a reconnect. */
export async function resync(): Promise<void> {
  const [nextStatus, nextValues, nextAlerts] = await Promise.all([call('status', {}), call('values', {}), call('alerts', {})]);
  status.value = nextStatus;
  values.value = new Map(nextValues.sensors.map((sensor) => [sensor.sensorId, sensor]));
  alerts.value = nextAlerts;
  await refreshHistory();
  resyncs.value += 1;
}

function mergeAlert(alert: Alert): void {
  const others = (list: Alert[]) => list.filter((existing) => existing.key !== alert.key);
  alerts.value =
    alert.clearedAt === null
      ? { active: [alert, ...others(alerts.value.active)], recent: alerts.value.recent }
      : { active: others(alerts.value.active), recent: [alert, ...others(alerts.value.recent)] };
}

function apply(event: ApiEvent): void {
  if (event.type === 'status') {
    status.value = event.status;
    if (Date.now() - lastHistory > HISTORY_REFRESH_MS) void refreshHistory().catch(() => undefined);
  } else if (event.type === 'values') {
    values.value = new Map(values.value).set(event.sensor.sensorId, event.sensor);
  } else if (event.type === 'alert') {
    mergeAlert(event.alert);
  } else if (event.type === 'session' && event.state !== 'open') {
    signOut('expired');
  }
  for (const listener of listeners) listener(event);
}

/** Loads everything and opens the event stream for a signed-in user; returns the function that closes it. */
export function startLive(): () => void {
  void resync().catch(() => undefined);
  let wasLost = false;
  return gateway.subscribe(apply, (state) => {
    connection.value = state;
    if (state === 'lost') wasLost = true;
    if (state === 'open' && wasLost) {
      wasLost = false;
      void resync().catch(() => undefined);
    }
  });
}
