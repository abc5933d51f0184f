import { useEffect, useState } from 'preact/hooks';
import type { ApiEvent, MethodResult } from '../../main/shared/api.js';
import { Button } from '../components/button.js';
import { SelectField, TextField } from '../components/field.js';
import { showToast } from '../components/toasts.js';
import { fieldErrors, lastSegment } from '../field-errors.js';
import { clockTime, countdown } from '../format.js';
import { href, navigate } from '../router.js';
import { now } from '../state/clock.js';
import { listen, resync } from '../state/live.js';
import { call } from '../state/session.js';

type Port = MethodResult<'serialPorts'>['ports'][number];
type PreviewLine = Extract<ApiEvent, { type: 'serial-preview' }>;

const BAUD_PRESETS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;
const FORMATS = [
  { value: 'jsonl', label: 'JSON lines' },
  { value: 'kv', label: 'key=value lines' },
  { value: 'csv', label: 'CSV columns' },
] as const;
const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
const MAX_PREVIEW_LINES = 50;

interface SerialForm {
  path: string;
  id: string;
  sensorId: string;
  format: 'jsonl' | 'kv' | 'csv';
  baudRate: string;
  parity: (typeof PARITIES)[number];
  dataBits: '5' | '6' | '7' | '8';
  stopBits: '1' | '1.5' | '2';
  /** CSV only: `temperature:°C, humidity:%, skip`. */
  columns: string;
}

function csvColumns(text: string): unknown[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      if (part === 'skip' || part === 'sensorId') return part;
      const [quantity = '', unit = ''] = part.split(':').map((piece) => piece.trim());
      return { quantity, unit };
    });
}

/** The `sensors.serial` entry as the YAML will hold it. */
function entryOf(form: SerialForm): Record<string, unknown> {
  return {
    id: form.id,
    path: form.path,
    format: form.format,
    sensorId: form.sensorId,
    baudRate: Number(form.baudRate),
    parity: form.parity,
    dataBits: Number(form.dataBits),
    stopBits: Number(form.stopBits),
    ...(form.format === 'csv' ? { columns: csvColumns(form.columns) } : {}),
  };
}

function portLabel(port: Port): string {
  const name = port.byId[0]?.replace('/dev/serial/by-id/', '') ?? port.path;
  const maker = [port.manufacturer, port.product].filter(Boolean).join(' ');
  const ids = port.vendorId ? ` [${port.vendorId}:${port.productId ?? '?'}]` : '';
  return `${name}${maker ? ` · ${maker}` : ''}${ids}`;
}

function PortPicker({ ports, value, onValue, error, onRefresh }: { ports: Port[] | undefined; value: string; onValue: (path: string) => void; error?: string | undefined; onRefresh: () => void }) {
  return (
    <fieldset>
      <legend>Port</legend>
      <div class="stack">
        {ports === undefined && <p>Looking for serial ports…</p>}
        {ports?.length === 0 && <p class="muted">No serial ports found. Plug the adapter in, then search again.</p>}
        {ports?.map((port) => {
          const path = port.byId[0] ?? port.path;
          return (
            <label class="check" key={path}>
              <input type="radio" name="port" value={path} checked={value === path} onChange={() => onValue(path)} />
              <span>
                {portLabel(port)}
                <span class="muted mono"> {port.path}</span>
                {port.usedBy.length > 0 && <span class="error-text"> (used by {port.usedBy.join(', ')})</span>}
              </span>
            </label>
          );
        })}
        <TextField label="Or type a port path" name="path" value={value} onValue={onValue} error={error} placeholder="/dev/serial/by-id/…" />
        <div>
          <Button onClick={onRefresh}>Search ports again</Button>
        </div>
      </div>
    </fieldset>
  );
}

function Preview({ lines, deadline, running }: { lines: PreviewLine[]; deadline: number | undefined; running: boolean }) {
  const parsed = lines.filter((line) => line.result.ok).length;
  return (
    <section class="card" aria-labelledby="preview-title">
      <h2 id="preview-title">Live preview</h2>
      <p role="status">
        {running && deadline ? `Reading the port: ${countdown(deadline - now.value)} left. ` : 'Not running. '}
        {lines.length > 0 && `${parsed} parsed, ${lines.length - parsed} rejected.`}
      </p>
      <ol class="log-lines" id="preview-lines" aria-label="Lines read from the port, newest first">
        {lines.map((line, index) => (
          <li key={`${line.at}-${index}`} class={line.result.ok ? 'preview-ok' : 'preview-reject'}>
            <span class="muted">{clockTime(line.at)}</span> <code>{line.raw}</code>
            <br />
            {line.result.ok ? (
              <span class="ok-text">
                ✓{' '}
                {line.result.readings
                  .flatMap((reading) => reading.values.map((value) => `${reading.sensorId} ${value.quantity} ${value.value}${value.unit ? ` ${value.unit}` : ''}`))
                  .join(', ')}
              </span>
            ) : (
              <span class="error-text">
                ✗ rejected: {line.result.reason} ({line.result.message})
              </span>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function AddSerialScreen() {
  const [ports, setPorts] = useState<Port[] | undefined>();
  const [form, setForm] = useState<SerialForm>({ path: '', id: '', sensorId: '', format: 'jsonl', baudRate: '9600', parity: 'none', dataBits: '8', stopBits: '1', columns: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [preview, setPreview] = useState<{ id: string; deadline: number } | undefined>();
  const [lines, setLines] = useState<PreviewLine[]>([]);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof SerialForm>(key: K) => (value: SerialForm[K]) => setForm((current) => ({ ...current, [key]: value }));

  const searchPorts = () => {
    setPorts(undefined);
    call('serialPorts', {}).then(
      (result) => setPorts(result.ports),
      (error) => {
        setPorts([]);
        setErrors(fieldErrors(error, () => undefined));
      },
    );
  };
  useEffect(searchPorts, []);

  useEffect(
    () =>
      listen((event) => {
        if (!preview) return;
        if (event.type === 'serial-preview' && event.previewId === preview.id) setLines((current) => [event, ...current].slice(0, MAX_PREVIEW_LINES));
        if (event.type === 'serial-preview-ended' && event.previewId === preview.id) {
          setPreview(undefined);
          if (event.reason === 'error') setErrors({ form: event.message ?? 'the preview stopped with an error' });
        }
      }),
    [preview],
  );
  useEffect(() => () => void (preview && call('stopSerialPreview', { previewId: preview.id }).catch(() => undefined)), [preview]);

  const localKey = (path: string) => {
    const key = lastSegment(path);
    return key in form ? key : key === 'columns' ? 'columns' : undefined;
  };

  const startPreview = async () => {
    setBusy(true);
    setErrors({});
    setLines([]);
    try {
      const started = await call('startSerialPreview', { entry: entryOf(form), durationSeconds: 60 });
      setPreview({ id: started.previewId, deadline: Date.parse(started.deadline) });
      document.getElementById('preview-title')?.scrollIntoView({ block: 'nearest' });
    } catch (error) {
      setErrors(fieldErrors(error, localKey));
    } finally {
      setBusy(false);
    }
  };

  const stopPreview = async () => {
    if (preview) await call('stopSerialPreview', { previewId: preview.id }).catch(() => undefined);
    setPreview(undefined);
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      await stopPreview();
      await call('addSensor', { sensor: { kind: 'serial', entry: entryOf(form) } });
      showToast(`Saved ${form.sensorId}: its values appear on the Sensors screen`);
      await resync().catch(() => undefined);
      navigate('sensors');
    } catch (error) {
      setErrors(fieldErrors(error, localKey));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="stack" onSubmit={save} noValidate>
      <h1>Add a serial sensor</h1>
      <PortPicker
        ports={ports}
        value={form.path}
        onValue={(path) => setForm((current) => ({ ...current, path, id: current.id || `port-${path.split('/').at(-1)?.slice(-12).replace(/[^A-Za-z0-9_-]/g, '') ?? ''}` }))}
        error={errors.path}
        onRefresh={searchPorts}
      />
      <fieldset>
        <legend>What the device sends</legend>
        <div class="form-grid">
          <SelectField label="Format" name="format" value={form.format} options={FORMATS} onValue={set('format')} error={errors.format} />
          <TextField label="Sensor id" name="sensorId" value={form.sensorId} onValue={set('sensorId')} error={errors.sensorId} hint="Names the readings upstream" />
          <TextField label="Port name" name="id" value={form.id} onValue={set('id')} error={errors.id} hint="Names the port in logs and metrics" />
          {form.format === 'csv' && (
            <TextField label="Columns" name="columns" value={form.columns} onValue={set('columns')} error={errors.columns} hint="In order, e.g. temperature:°C, humidity:%, skip" />
          )}
        </div>
      </fieldset>
      <fieldset>
        <legend>Line settings</legend>
        <div class="stack">
          <div class="chips" role="group" aria-label="Baud rate presets">
            {BAUD_PRESETS.map((baud) => (
              <button type="button" key={baud} aria-pressed={form.baudRate === String(baud)} onClick={() => set('baudRate')(String(baud))}>
                {baud}
              </button>
            ))}
          </div>
          <div class="form-grid">
            <TextField label="Baud rate" name="baudRate" inputMode="numeric" value={form.baudRate} onValue={set('baudRate')} error={errors.baudRate} />
            <SelectField label="Parity" name="parity" value={form.parity} options={PARITIES.map((value) => ({ value, label: value }))} onValue={set('parity')} error={errors.parity} />
            <SelectField label="Data bits" name="dataBits" value={form.dataBits} options={(['8', '7', '6', '5'] as const).map((value) => ({ value, label: value }))} onValue={set('dataBits')} error={errors.dataBits} />
            <SelectField label="Stop bits" name="stopBits" value={form.stopBits} options={(['1', '1.5', '2'] as const).map((value) => ({ value, label: value }))} onValue={set('stopBits')} error={errors.stopBits} />
          </div>
        </div>
      </fieldset>
      {errors.form && (
        <p class="notice bad" role="alert">
          {errors.form}
        </p>
      )}
      <div class="row">
        {preview ? (
          <Button onClick={() => void stopPreview()}>Stop preview</Button>
        ) : (
          <Button onClick={() => void startPreview()} busy={busy}>
            Start preview
          </Button>
        )}
        <Button variant="primary" type="submit" busy={busy}>
          Save sensor
        </Button>
        <a class="button" href={href('sensors')}>
          Cancel
        </a>
      </div>
      <Preview lines={lines} deadline={preview?.deadline} running={preview !== undefined} />
    </form>
  );
}
