import { useState } from 'preact/hooks';
import type { SensorStatusView } from '../../main/shared/api.js';
import { ConfirmDialog } from '../components/dialog.js';
import { StatusDot } from '../components/status-dot.js';
import { showToast } from '../components/toasts.js';
import { errorMessage, relativeTime } from '../format.js';
import { href } from '../router.js';
import { now } from '../state/clock.js';
import { resync, status, values } from '../state/live.js';
import { call } from '../state/session.js';

function ValuesCell({ sensorId }: { sensorId: string }) {
  const latest = values.value.get(sensorId)?.values ?? [];
  if (latest.length === 0) return <span class="muted">no values yet</span>;
  return (
    <span class="values">
      {latest.map((value) => (
        <span key={value.quantity} class="value" data-quantity={value.quantity}>
          {value.quantity} <strong>{Number(value.value.toFixed(2))}</strong>
          {value.unit ? ` ${value.unit}` : ''}
        </span>
      ))}
    </span>
  );
}

async function removeSensor(sensor: SensorStatusView): Promise<void> {
  if (sensor.source === 'ble') await call('removeBleSensor', { id: sensor.sensorId });
  else if (sensor.source === 'sim') await call('removeSensor', { ref: { kind: 'sim', id: sensor.sensorId } });
  else if (sensor.server !== undefined) await call('removeSensor', { ref: { kind: 'modbusTcp', server: sensor.server } });
  else await call('removeSensor', { ref: { kind: 'serial', port: sensor.port ?? sensor.sensorId } });
}

export function SensorsScreen() {
  const [removing, setRemoving] = useState<SensorStatusView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const sensors = status.value?.sensors ?? [];
  const confirmRemove = async () => {
    const sensor = removing;
    setRemoving(undefined);
    if (!sensor) return;
    try {
      await removeSensor(sensor);
      showToast(`Removed ${sensor.sensorId}`);
      setError(undefined);
      await resync();
    } catch (failure) {
      setError(`Could not remove ${sensor.sensorId}: ${errorMessage(failure)}`);
    }
  };
  return (
    <div class="stack">
      <div class="row">
        <h1>Sensors</h1>
        <span class="row">
          <a class="button primary" href={href('add-serial')}>
            Add serial
          </a>
          <a class="button primary" href={href('add-ble')}>
            Add BLE
          </a>
        </span>
      </div>
      {error && (
        <p class="notice bad" role="alert">
          {error}
        </p>
      )}
      {sensors.length === 0 ? (
        <p class="muted">No sensors yet. Add a serial or BLE sensor.</p>
      ) : (
        <div class="table-wrap">
          <table id="sensors" class="cards">
            <thead>
              <tr>
                <th scope="col">Sensor</th>
                <th scope="col">State</th>
                <th scope="col">Values</th>
                <th scope="col">Last seen</th>
                <th scope="col">RSSI</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sensors.map((sensor) => (
                <tr key={sensor.sensorId} data-sensor={sensor.sensorId}>
                  <th scope="row">
                    {sensor.sensorId}
                    <div class="muted">{sensor.source}</div>
                  </th>
                  <td data-label="State">
                    <StatusDot tone={sensor.online ? 'ok' : 'bad'} label={sensor.online ? 'online' : 'offline'} />
                  </td>
                  <td data-label="Values">
                    <ValuesCell sensorId={sensor.sensorId} />
                  </td>
                  <td class="nowrap" data-label="Last seen">{relativeTime(sensor.lastSeen, now.value)}</td>
                  <td class="nowrap" data-label="RSSI">{sensor.source === 'ble' && typeof sensor.rssi === 'number' ? `${sensor.rssi} dBm` : '–'}</td>
                  <td>
                    <button type="button" onClick={() => setRemoving(sensor)} aria-label={`Remove ${sensor.sensorId}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove ${removing?.sensorId ?? ''}?`}
        message={
          removing?.source === 'serial'
            ? `The gateway stops reading serial port ${removing.port ?? removing.sensorId} (with every sensor on that port) and removes it from the configuration. Readings already buffered are still delivered.`
            : removing?.server !== undefined
              ? `The gateway stops polling Modbus TCP server ${removing.server} (with every unit on it) and removes it from the configuration. Readings already buffered are still delivered.`
              : 'The gateway stops reading it and removes it from the configuration. Readings already buffered are still delivered.'
        }
        confirmLabel="Remove"
        onConfirm={() => void confirmRemove()}
        onCancel={() => setRemoving(undefined)}
      />
    </div>
  );
}
