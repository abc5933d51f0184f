import type { GatewayStatus } from '../../main/shared/api.js';
import { Sparkline } from '../components/sparkline.js';
import { StatusDot } from '../components/status-dot.js';
import { bytes, duration, relativeTime, timeUntil } from '../format.js';
import { now } from '../state/clock.js';
import { alerts, history, status } from '../state/live.js';
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

export function OverviewScreen() {
  const current = status.value;
  if (!current) return <p>Loading…</p>;
  const points = history.value.points;
  const active = alerts.value.active;
  return (
    <div class="stack">
      <h1>Overview</h1>
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
      <section class="card" aria-labelledby="alerts-title">
        <h2 id="alerts-title">Active alerts ({active.length})</h2>
        {active.length === 0 ? (
          <p class="muted">No active alerts.</p>
        ) : (
          <ul class="alert-list">
            {active.map((alert) => (
              <li key={alert.key} class={alert.severity}>
                <strong>{alert.message}</strong> <span class="muted">({alert.subject}, {relativeTime(alert.raisedAt, now.value)})</span>
                {alert.hint && <p>Fix: {alert.hint}</p>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
