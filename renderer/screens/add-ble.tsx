import { useEffect, useState } from 'preact/hooks';
import type { NearbyDevice } from '../../main/shared/api.js';
import { Button } from '../components/button.js';
import { TextField } from '../components/field.js';
import { showToast } from '../components/toasts.js';
import { fieldErrors, lastSegment } from '../field-errors.js';
import { countdown } from '../format.js';
import { href, navigate } from '../router.js';
import { now } from '../state/clock.js';
import { listen, resync } from '../state/live.js';
import { call } from '../state/session.js';

const BIND_KEY = /^[0-9a-f]{32}$/;

/** Spaces, dashes and colons are common when keys are copied from a vendor app. */
function normaliseKey(text: string): string {
  return text.replace(/[\s:-]/g, '').toLowerCase();
}

function bindKeyProblem(key: string): string | undefined {
  if (key === '') return 'This device encrypts its data: enter its 32-character bind key.';
  if (/[^0-9a-f]/.test(key)) return 'A bind key has only the characters 0-9 and a-f.';
  if (key.length !== 32) return `A bind key has 32 characters; this one has ${key.length}.`;
  return undefined;
}

function DeviceRow({ device, onPick }: { device: NearbyDevice; onPick: (device: NearbyDevice) => void }) {
  return (
    <li class="card device" data-mac={device.mac}>
      <div class="row">
        <strong>{device.name ?? 'Unnamed device'}</strong>
        <span class="mono muted">{device.mac}</span>
        <span>{device.rssi} dBm</span>
        <span>{device.format ?? 'unknown format'}</span>
        {device.encrypted && <span class="badge">encrypted</span>}
      </div>
      <p class="muted">
        {device.preview.length > 0
          ? device.preview.map((value) => `${value.quantity} ${value.value}${value.unit ? ` ${value.unit}` : ''}`).join(', ')
          : device.encrypted
            ? 'Values appear once the bind key is entered.'
            : 'No values decoded yet.'}
      </p>
      {device.pairedAs ? (
        <p>Already added as {device.pairedAs}.</p>
      ) : (
        <div>
          <Button variant="primary" onClick={() => onPick(device)} aria-label={`Add this device: ${device.name ?? device.mac}`}>
            Add this device
          </Button>
        </div>
      )}
    </li>
  );
}

function BindForm({ device, onDone, onCancel }: { device: NearbyDevice; onDone: (id: string) => void; onCancel: () => void }) {
  const [id, setId] = useState(`ble-${device.mac.replace(/:/g, '').slice(-6).toLowerCase()}`);
  const [key, setKey] = useState('');
  const [touched, setTouched] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const normalised = normaliseKey(key);
  const keyProblem = device.encrypted ? bindKeyProblem(normalised) : undefined;

  const save = async (event: Event) => {
    event.preventDefault();
    setTouched(true);
    if (keyProblem) return;
    setBusy(true);
    setErrors({});
    try {
      await call('addBleSensor', { mac: device.mac, id, ...(device.encrypted ? { bindKey: normalised } : {}) });
      onDone(id);
    } catch (error) {
      setErrors(fieldErrors(error, (path) => ({ bindKey: 'bindKey', id: 'id', mac: 'form' })[lastSegment(path)]));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card stack" onSubmit={save} noValidate aria-labelledby="bind-title">
      <h2 id="bind-title">Add {device.name ?? device.mac}</h2>
      <TextField label="Sensor id" name="id" value={id} onValue={setId} error={errors.id} />
      {device.encrypted && (
        <TextField
          label="Bind key"
          name="bindKey"
          value={key}
          onValue={(value) => {
            setKey(value);
            setErrors((current) => ({ ...current, bindKey: '' }));
          }}
          onBlur={() => setTouched(true)}
          autocomplete="off"
          spellcheck={false}
          hint={BIND_KEY.test(normalised) ? 'Looks like a bind key; the gateway checks it decrypts this device when you save.' : '32 hex characters, from the vendor app or the sticker.'}
          error={errors.bindKey || (touched ? keyProblem : undefined)}
        />
      )}
      {errors.form && (
        <p class="notice bad" role="alert">
          {errors.form}
        </p>
      )}
      <div class="row">
        <Button variant="primary" type="submit" busy={busy}>
          Save sensor
        </Button>
        <Button onClick={onCancel}>Back to the list</Button>
      </div>
    </form>
  );
}

export function AddBleScreen() {
  const [pairing, setPairing] = useState<{ sessionId: string; deadline: number } | undefined>();
  const [devices, setDevices] = useState<NearbyDevice[]>([]);
  const [picked, setPicked] = useState<NearbyDevice | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(
    () =>
      listen((event) => {
        if (!pairing) return;
        if (event.type === 'pairing-nearby' && event.sessionId === pairing.sessionId) setDevices(event.devices);
        if (event.type === 'pairing-ended' && event.sessionId === pairing.sessionId) setPairing(undefined);
      }),
    [pairing],
  );
  useEffect(() => () => void (pairing && call('stopPairing', { sessionId: pairing.sessionId }).catch(() => undefined)), [pairing]);

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const started = await call('startPairing', { durationSeconds: 120 });
      setPairing({ sessionId: started.sessionId, deadline: Date.parse(started.deadline) });
      setDevices((await call('nearbyDevices', { sessionId: started.sessionId })).devices);
    } catch (failure) {
      setError(fieldErrors(failure, () => undefined).form);
    } finally {
      setBusy(false);
    }
  };

  const done = async (id: string) => {
    showToast(`Saved ${id}: its readings appear on the Sensors screen`);
    await resync().catch(() => undefined);
    navigate('sensors');
  };

  const left = pairing ? Math.max(0, pairing.deadline - now.value) : 0;
  const sorted = [...devices].sort((a, b) => b.rssi - a.rssi);
  return (
    <div class="stack">
      <h1>Add a BLE sensor</h1>
      {picked ? (
        <BindForm device={picked} onDone={(id) => void done(id)} onCancel={() => setPicked(undefined)} />
      ) : (
        <>
          <div class="row">
            {pairing ? (
              <>
                <p role="status" id="pairing-countdown">
                  Listening for devices: {countdown(left)} left. Wake the sensor (press its button) so it advertises.
                </p>
                <Button onClick={() => void call('stopPairing', { sessionId: pairing.sessionId }).then(() => setPairing(undefined))}>Stop</Button>
              </>
            ) : (
              <Button variant="primary" onClick={() => void start()} busy={busy}>
                {devices.length ? 'Listen again' : 'Start pairing'}
              </Button>
            )}
            <a class="button" href={href('sensors')}>
              Cancel
            </a>
          </div>
          {error && (
            <p class="notice bad" role="alert">
              {error}
            </p>
          )}
          <h2>Nearby devices ({sorted.length}), strongest signal first</h2>
          {sorted.length === 0 ? <p class="muted">{pairing ? 'No devices heard yet…' : 'Start pairing to look for devices.'}</p> : null}
          <ul class="stack device-list" aria-label="Nearby devices">
            {sorted.map((device) => (
              <DeviceRow key={device.mac} device={device} onPick={setPicked} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
