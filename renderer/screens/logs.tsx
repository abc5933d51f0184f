import { useEffect, useRef, useState } from 'preact/hooks';
import { LOG_LEVELS, type LogEntry } from '../../main/shared/api.js';
import { Button } from '../components/button.js';
import { SelectField, TextField } from '../components/field.js';
import { clockTime, errorMessage } from '../format.js';
import { listen, resyncs } from '../state/live.js';
import { call } from '../state/session.js';

type Level = (typeof LOG_LEVELS)[number];
const SHOWN = 500;

interface Filter {
  level: Level;
  namespace: string;
  text: string;
}

function matches(entry: LogEntry, filter: Filter): boolean {
  if (LOG_LEVELS.indexOf(entry.level) < LOG_LEVELS.indexOf(filter.level)) return false;
  if (filter.namespace && !entry.namespace.startsWith(filter.namespace)) return false;
  if (filter.text) {
    const needle = filter.text.toLowerCase();
    return entry.message.toLowerCase().includes(needle) || JSON.stringify(entry.fields).toLowerCase().includes(needle);
  }
  return true;
}

function query(filter: Filter) {
  return call('logs', {
    level: filter.level,
    ...(filter.namespace ? { namespace: filter.namespace } : {}),
    ...(filter.text ? { text: filter.text } : {}),
    limit: SHOWN,
  });
}

export function LogsScreen() {
  const [draft, setDraft] = useState<Filter>({ level: 'info', namespace: '', text: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [paused, setPaused] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const held = useRef<LogEntry[]>([]);
  const [heldCount, setHeldCount] = useState(0);

  useEffect(() => {
    query(filter).then(
      (result) => {
        setEntries([...result.entries].sort((a, b) => b.id - a.id));
        setError(undefined);
      },
      (failure) => setError(errorMessage(failure)),
    );
  }, [filter, resyncs.value]);

  useEffect(
    () =>
      listen((event) => {
        if (event.type !== 'log' || !matches(event.entry, filter)) return;
        if (paused) {
          held.current.push(event.entry);
          setHeldCount(held.current.length);
        } else setEntries((current) => [event.entry, ...current].slice(0, SHOWN));
      }),
    [filter, paused],
  );

  const resume = () => {
    const waiting = held.current.reverse();
    held.current = [];
    setHeldCount(0);
    setEntries((current) => [...waiting, ...current].slice(0, SHOWN));
    setPaused(false);
  };

  return (
    <div class="stack">
      <h1>Logs</h1>
      <form
        class="form-grid"
        role="search"
        aria-label="Filter logs"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(draft);
        }}
      >
        <SelectField label="Level and above" name="level" value={draft.level} options={LOG_LEVELS.map((value) => ({ value, label: value }))} onValue={(level) => setDraft({ ...draft, level })} />
        <TextField label="Namespace" name="namespace" value={draft.namespace} onValue={(namespace) => setDraft({ ...draft, namespace })} placeholder="uplink" />
        <TextField label="Text" name="text" value={draft.text} onValue={(text) => setDraft({ ...draft, text })} placeholder="timeout" />
        <div class="row filter-actions">
          <Button variant="primary" type="submit">
            Apply filter
          </Button>
          {paused ? <Button onClick={resume}>Resume ({heldCount} new)</Button> : <Button onClick={() => setPaused(true)}>Pause</Button>}
        </div>
      </form>
      {error && (
        <p class="notice bad" role="alert">
          {error}
        </p>
      )}
      <p class="muted" role="status">
        {entries.length === 1 ? '1 entry' : `${entries.length} entries`}
        {paused ? ', paused' : ', live'}
      </p>
      <ol class="log-lines" id="log-lines" aria-label="Log entries, newest first">
        {entries.map((entry) => (
          <li key={entry.id} data-level={entry.level} data-namespace={entry.namespace}>
            <span class="muted">{clockTime(entry.time)}</span> <span class={`level level-${entry.level}`}>{entry.level}</span> <strong>{entry.namespace}</strong>{' '}
            {entry.message}
            {Object.keys(entry.fields).length > 0 && <span class="muted"> {JSON.stringify(entry.fields)}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
