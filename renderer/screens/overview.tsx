import type { Alert, GatewayStatus } from '../../main/shared/api.js';
import { Sparkline } from '../components/sparkline.js';
import { StatusDot } from '../components/status-dot.js';
import { bytes, duration, relativeTime, timeUntil } from '../format.js';
import { now } from '../state/clock.js';
import { history, status } from '../state/live.js';
import { UPLINK_ERROR_WORDS } from '../uplink-words.js';

function CloudCard({ uplink }: { uplink: GatewayStatus['uplink'] }) {
  if (uplink === null) {
    return (
      <section class="card" aria-labelledby="cloud-title" data-cloud="none">
        <h2 id="cloud-title">Cloud</h2>
        <StatusDot tone="off" label="Not configured" />
        <p class="muted">Readings are kept in the buffer until a cloud broker is set on the Cloud screen.</p>
      </section>
    );
  }
  const connected = uplink.state === 'connected';
  const error = uplink.lastError;
  return (
    <section class="card" aria-labelledby="cloud-title" data-cloud={uplink.state}>
      <h2 id="cloud-title">Cloud</h2>
      <StatusDot tone={connected ? 'ok' : 'bad'} label={connected ? 'Connected' : uplink.state === 'stopped' ? 'Stopped' : 'Not connected'} />
      <p class="mono">{uplink.broker}</p>
      {connected && uplink.connectedSince && <p class="muted">since {relativeTime(uplink.connectedSince, now.value)}</p>}
      {!connected && error && (
        <div class="notice bad" id="cloud-reason">
          <p>
            <strong>{UPLINK_ERROR_WORDS[error.kind]}</strong> <code>{error.kind}</code>
          </p>
          <p>{error.message}</p>
          {error.hint && <p>Fix: {error.hint}</p>}
        </div>
      )}
      {!connected && uplink.nextAttemptAt && <p class="muted">Next attempt {timeUntil(uplink.nextAttemptAt, now.value)}.</p>}
      <p class="muted">{uplink.readingsSent} readings sent since start</p>
    </section>
  );
}

function BufferCard({ buffer }: { buffer: GatewayStatus['buffer'] }) {
  const drops = Object.entries(buffer.drops).filter(([, count]) => count > 0);
  return (
    <section class="card" aria-labelledby="buffer-title">
      <h2 id="buffer-title">Buffer</h2>
      <p>
        <span class="big" id="buffer-depth">
          {buffer.depth}
        </span>{' '}
        readings waiting ({bytes(buffer.bytes)})
      </p>
      <p id="buffer-age">Oldest unsent: {buffer.oldestUnsentAgeMs === null ? 'nothing waiting' : duration(buffer.oldestUnsentAgeMs)}</p>
      <p class={drops.length ? 'error-text' : 'muted'}>Dropped: {drops.length === 0 ? 'none' : drops.map(([reason, count]) => `${count} (${reason})`).join(', ')}</p>
    </section>
  );
}

function CertificateCard({ identity }: { identity: GatewayStatus['identity'] }) {
  return (
    <section class="card" aria-labelledby="cert-title">
      <h2 id="cert-title">Certificate</h2>
      {identity === null ? (
        <StatusDot tone="off" label="No client certificate yet" />
      ) : (
        <>
          <StatusDot
            tone={identity.validity !== 'valid' ? 'bad' : identity.daysLeft < 30 ? 'warn' : 'ok'}
            label={identity.validity === 'valid' ? `${identity.daysLeft} days left` : identity.validity === 'expired' ? 'Expired' : 'Not valid yet'}
          />
          <p class="muted mono">{identity.subject}</p>
        </>
      )}
    </section>
  );
}

const SEVERITY_ORDER: Record<Alert['severity'], number> = { critical: 0, warning: 1, info: 2 };
const SEVERITY_WORD: Record<Alert['severity'], string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };

/** What is wrong first: the active alerts from the status, most severe and then newest first, each with its fix. */
function AlertsCard({ alerts }: { alerts: GatewayStatus['alerts'] }) {
  const { active, counts } = alerts;
  const sorted = [...active].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || Date.parse(b.raisedAt) - Date.parse(a.raisedAt));
  const summary = (['critical', 'warning', 'info'] as const).filter((severity) => counts[severity] > 0).map((severity) => `${counts[severity]} ${severity}`);
  return (
    <section class="card" aria-labelledby="alerts-title" data-alerts={active.length}>
      <h2 id="alerts-title">
        Active alerts ({active.length}){summary.length > 0 && <span class="muted alert-counts">{summary.join(' · ')}</span>}
      </h2>
      {active.length === 0 ? (
        <StatusDot tone="ok" label="No active alerts" />
      ) : (
        <ul class="alert-list">
          {sorted.map((alert) => (
            <li key={alert.key} class={alert.severity} data-alert={alert.key}>
              <p>
                <span class={`severity ${alert.severity}`}>{SEVERITY_WORD[alert.severity]}</span> <strong>{alert.message}</strong>
              </p>
              {alert.hint && <p>Fix: {alert.hint}</p>}
              <p class="muted alert-meta">
                <code>{alert.kind}</code> · {alert.subject} · since {relativeTime(alert.raisedAt, now.value)}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function OverviewScreen() {
  const current = status.value;
  if (!current) return <p>Loading…</p>;
  const points = history.value.points;
  return (
    <div class="stack">
      <h1>Overview</h1>
      <AlertsCard alerts={current.alerts} />
      <div class="grid">
        <CloudCard uplink={current.uplink} />
        <BufferCard buffer={current.buffer} />
        <CertificateCard identity={current.identity} />
      </div>
      <section class="card" aria-labelledby="trend-title">
        <h2 id="trend-title">Last hour</h2>
        <div class="grid">
          <Sparkline label="Throughput" unit="readings/s" points={points.map((point) => point.rate)} />
          <Sparkline label="Buffer depth" unit="readings" points={points.map((point) => point.bufferDepth)} />
        </div>
      </section>
    </div>
  );
}
