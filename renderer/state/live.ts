import { signal } from '@preact/signals';
import { ALERT_SEVERITIES, type Alert, type ApiEvent, type GatewayStatus, type MethodResult, type SensorValues } from '../../main/shared/api.js';
import { gateway } from '../client/index.js';
import { call, signOut } from './session.js';

/** `lost` once an open event stream dropped, until it is back. */
export const connection = signal<'connecting' | 'open' | 'lost'>('connecting');
export const status = signal<GatewayStatus | null>(null);
export const values = signal<ReadonlyMap<string, SensorValues>>(new Map());
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

/** The history has 10-second steps; it is fetched again on a status event at most this often. */
const HISTORY_REFRESH_MS = 10_000;
/** A fetch counts as activity on the server: none while nobody touches the screen, so idle sessions still end. */
const REFRESH_WHILE_IDLE_MS = 10 * 60_000;
let lastHistory = 0;
let lastInput = Date.now();
for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, () => (lastInput = Date.now()), { passive: true, capture: true });

async function refreshHistory(): Promise<void> {
  lastHistory = Date.now();
  history.value = await call('history', { windowSeconds: 3600 });
}

/**
 * Everything the overview and sensor screens show, fetched again after a reconnect. Parts load
 * independently: a gateway that cannot answer one still shows the other. The active alerts come with the status.
 */
export async function resync(): Promise<void> {
  const [nextStatus, nextValues] = await Promise.allSettled([call('status', {}), call('values', {})]);
  if (nextStatus.status === 'fulfilled') status.value = nextStatus.value;
  if (nextValues.status === 'fulfilled') values.value = new Map(nextValues.value.sensors.map((sensor) => [sensor.sensorId, sensor]));
  await refreshHistory().catch(() => undefined);
  resyncs.value += 1;
}

/** An `alert` event between two status updates: raised or updated alerts join the status's active list, cleared ones (and notices) leave it. */
function mergeAlert(alert: Alert): void {
  const current = status.value;
  if (!current) return;
  const others = current.alerts.active.filter((existing) => existing.key !== alert.key);
  const active = alert.clearedAt === null ? [...others, alert] : others;
  const counts = Object.fromEntries(ALERT_SEVERITIES.map((severity) => [severity, active.filter((a) => a.severity === severity).length])) as GatewayStatus['alerts']['counts'];
  status.value = { ...current, alerts: { active, counts } };
}

function apply(event: ApiEvent): void {
  if (event.type === 'status') {
    status.value = event.status;
    const due = Date.now() - lastHistory > HISTORY_REFRESH_MS && Date.now() - lastInput < REFRESH_WHILE_IDLE_MS;
    if (due) void refreshHistory().catch(() => undefined);
  } else if (event.type === 'values') {
    values.value = new Map(values.value).set(event.sensor.sensorId, event.sensor);
  } else if (event.type === 'alert') {
    mergeAlert(event.alert);
  } else if (event.type === 'session' && event.state !== 'open') {
    signOut('expired');
  }
  for (const listener of listeners) listener(event);
}

/** While the event stream is down, how often the session is checked (a restarted gateway has forgotten it). */
const PROBE_WHILE_LOST_MS = 3_000;

/** Loads everything and opens the event stream for a signed-in user; returns the function that closes it. */
export function startLive(): () => void {
  void resync().catch(() => undefined);
  let opened = false;
  let probe: ReturnType<typeof setInterval> | undefined;
  const stopProbe = () => {
    clearInterval(probe);
    probe = undefined;
  };
  const stops = [
    gateway.events.subscribe(apply),
    gateway.events.onResync(() => void resync().catch(() => undefined)),
    gateway.events.onConnection((state) => {
      if (state === 'signed-out') return signOut('expired');
      if (state === 'open') opened = true;
      // 'connecting' after the stream was open means it dropped and is retrying.
      connection.value = state === 'connecting' && opened ? 'lost' : state;
      if (connection.value !== 'lost') stopProbe();
      // A 401 here (the gateway restarted and forgot the session) shows the login screen.
      else probe ??= setInterval(() => void call('session', {}).catch(() => undefined), PROBE_WHILE_LOST_MS);
    }),
  ];
  gateway.events.connect();
  return () => {
    stopProbe();
    gateway.events.disconnect();
    for (const stop of stops) stop();
  };
}
