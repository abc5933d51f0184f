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

function render(status: StatusView): void {
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
