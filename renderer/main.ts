import { gatewayClient, type StatusView } from './status-client.js';

const REFRESH_MS = 2000;

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillTable(id: string, rows: HTMLTableCellElement[][]): void {
  const body = document.querySelector(`#${id} tbody`) as HTMLTableSectionElement;
  body.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells);
      return tr;
    }),
  );
}

function setText(id: string, text: string, className = ''): void {
  const element = document.getElementById(id) as HTMLElement;
  element.textContent = text;
  element.className = className;
}

function describeAge(ms: number | null): string {
  if (ms === null) return 'nothing waiting';
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`;
}

function renderDelivery({ buffer, uplink }: StatusView['details']): void {
  if (uplink) {
    const connected = uplink.state === 'connected';
    setText('uplink-state', `${uplink.state} · ${uplink.broker}`, connected ? 'uplink-connected' : 'uplink-problem');
    setText('uplink-error', uplink.lastError ? `${uplink.lastError.kind}: ${uplink.lastError.message}` : 'none');
    setText('uplink-sent', String(uplink.readingsSent));
  } else {
    setText('uplink-state', 'not configured: readings stay in the buffer until a cloud is set');
  }
  if (buffer) {
    setText('buffer-depth', `${buffer.depth} readings (${(buffer.bytes / 1024).toFixed(0)} KiB), ${buffer.inFlight} in flight`);
    setText('buffer-age', describeAge(buffer.oldestUnsentAgeMs));
    const drops = Object.entries(buffer.drops).filter(([, count]) => count > 0);
    setText('buffer-drops', drops.length === 0 ? 'none' : drops.map(([reason, count]) => `${count} (${reason})`).join(', '), drops.length ? 'uplink-problem' : '');
  }
}

function render(status: StatusView): void {
  renderDelivery(status.details);
  (document.getElementById('gateway') as HTMLElement).textContent = `gateway ${status.gatewayId} · version ${status.version}`;
  fillTable(
    'components',
    status.components.map((c) => [cell(c.name), cell(c.state, `state-${c.state}`), cell(c.error ?? '')]),
  );
  fillTable(
    'sensors',
    status.sensors.map((s) => [
      cell(s.sensorId),
      cell(s.source),
      cell(s.online ? 'yes' : 'no', s.online ? 'online-yes' : 'online-no'),
      cell(s.lastSeen === null ? 'never' : new Date(s.lastSeen).toLocaleTimeString()),
      cell(s.rate.toFixed(1)),
    ]),
  );
}

async function refresh(): Promise<void> {
  const error = document.getElementById('error') as HTMLElement;
  try {
    render(await gatewayClient().status());
    error.hidden = true;
  } catch (failure) {
    error.textContent = `Cannot reach the gateway: ${failure instanceof Error ? failure.message : String(failure)}`;
    error.hidden = false;
  }
}

void refresh();
setInterval(() => void refresh(), REFRESH_MS);
