import { CheckField, FieldFrame, SelectField, TextField } from './field.js';

/** The parts of JSON Schema (draft 2020-12, as zod writes it) the forms understand. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  enum?: (string | number)[];
  default?: unknown;
  description?: string;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

type Json = Record<string, unknown>;

interface SchemaFieldsProps {
  schema: JsonSchema;
  value: Json;
  /** Dotted path of this object in the config (`ui`, `identity.subject`). */
  path: string;
  errors: Record<string, string>;
  onChange: (value: Json) => void;
}

const ACRONYMS = new Set(['ca', 'ttl', 'id', 'url', 'ip', 'dns', 'uri', 'tls', 'ui', 'ota', 'csr']);

/** `maxFileBytes` → "Max file bytes", `caFile` → "CA file". */
function words(key: string): string {
  const spaced = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(' ')
    .map((word) => (ACRONYMS.has(word) ? word.toUpperCase() : word))
    .join(' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function isPrimitiveUnion(schema: JsonSchema): boolean {
  return (schema.anyOf ?? []).every((option) => typeof option.type === 'string' && ['string', 'number', 'integer', 'boolean'].includes(option.type));
}

/** Text typed into a number or a number-or-string field, back to the config's value (empty: the default). */
function parseTyped(text: string, schema: JsonSchema): unknown {
  if (text.trim() === '') return undefined;
  const numeric = schema.type === 'number' || schema.type === 'integer' || (schema.anyOf && /^-?\d+(\.\d+)?$/.test(text.trim()));
  return numeric && Number.isFinite(Number(text)) ? Number(text) : text;
}

function hintOf(schema: JsonSchema): string | undefined {
  const parts = [schema.description, schema.default !== undefined && typeof schema.default !== 'object' ? `Default: ${String(schema.default)}` : undefined];
  return parts.filter(Boolean).join('. ') || undefined;
}

function JsonField({ label, value, path, error, onValue }: { label: string; value: unknown; path: string; error: string | undefined; onValue: (value: unknown) => void }) {
  return (
    <FieldFrame label={label} error={error} hint="JSON">
      {({ id, describedBy, invalid }) => (
        <textarea
          id={id}
          name={path}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          value={value === undefined ? '' : JSON.stringify(value, null, 1)}
          onChange={(event) => {
            const text = event.currentTarget.value;
            try {
              onValue(text.trim() === '' ? undefined : JSON.parse(text));
            } catch {
              onValue(text);
            }
          }}
        />
      )}
    </FieldFrame>
  );
}

/** One form control per property, nested objects as fieldsets; errors sit next to the key they name. */
export function SchemaFields({ schema, value, path, errors, onChange }: SchemaFieldsProps) {
  const set = (key: string, next: unknown) => {
    const copy = { ...value };
    if (next === undefined) delete copy[key];
    else copy[key] = next;
    onChange(copy);
  };
  return (
    <div class="form-grid">
      {Object.entries(schema.properties ?? {}).map(([key, property]) => {
        const fieldPath = `${path}.${key}`;
        const current = value[key];
        const label = words(key);
        const error = errors[fieldPath];
        if (property.type === 'object' && property.properties) {
          return (
            <fieldset key={key} class="nested">
              <legend>{label}</legend>
              {error && <p class="field-error">{error}</p>}
              <SchemaFields schema={property} value={(current as Json | undefined) ?? {}} path={fieldPath} errors={errors} onChange={(next) => set(key, next)} />
            </fieldset>
          );
        }
        if (property.type === 'boolean') {
          return (
            <div class="field" key={key}>
              <CheckField label={label} name={fieldPath} checked={Boolean(current ?? property.default)} onChecked={(checked) => set(key, checked)} />
              {error && <span class="field-error">{error}</span>}
            </div>
          );
        }
        if (property.enum) {
          const options = property.enum.map((option) => ({ value: String(option), label: String(option) }));
          return (
            <SelectField
              key={key}
              label={label}
              name={fieldPath}
              value={String(current ?? property.default ?? '')}
              options={current === undefined && property.default === undefined ? [{ value: '', label: '(not set)' }, ...options] : options}
              onValue={(next) => set(key, next === '' ? undefined : typeof property.enum?.[0] === 'number' ? Number(next) : next)}
              hint={hintOf(property)}
              error={error}
            />
          );
        }
        if (typeof property.type === 'string' && ['string', 'number', 'integer'].includes(property.type) || (property.anyOf && isPrimitiveUnion(property))) {
          return (
            <TextField
              key={key}
              label={label}
              name={fieldPath}
              inputMode={property.type === 'number' || property.type === 'integer' ? 'decimal' : undefined}
              value={current === undefined ? '' : String(current)}
              placeholder={property.default !== undefined ? String(property.default) : ''}
              onValue={(text) => set(key, parseTyped(text, property))}
              hint={hintOf(property)}
              error={error}
            />
          );
        }
        return <JsonField key={key} label={label} value={current} path={fieldPath} error={error} onValue={(next) => set(key, next)} />;
      })}
    </div>
  );
}
