import type { ComponentChildren, JSX } from 'preact';
import { useId } from 'preact/hooks';

interface FieldFrameProps {
  label: string;
  hint?: ComponentChildren;
  error?: string | undefined;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ComponentChildren;
}

/** A label, the control, an optional hint and an error message tied to the control by aria-describedby. */
export function FieldFrame({ label, hint, error, children }: FieldFrameProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : '';
  const errorId = error ? `${id}-error` : '';
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children({ id, describedBy, invalid: Boolean(error) })}
      {hint && (
        <span class="hint" id={hintId}>
          {hint}
        </span>
      )}
      {error && (
        <span class="field-error" id={errorId} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'label' | 'value' | 'onInput' | 'type'> & {
  label: string;
  value: string;
  onValue: (value: string) => void;
  hint?: ComponentChildren;
  error?: string | undefined;
  type?: string;
  autocomplete?: string;
  required?: boolean;
};

export function TextField({ label, value, onValue, hint, error, ...rest }: InputProps) {
  return (
    <FieldFrame label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <input
          {...rest}
          id={id}
          value={value}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          onInput={(event) => onValue((event.currentTarget as HTMLInputElement).value)}
        />
      )}
    </FieldFrame>
  );
}

interface SelectFieldProps<T extends string> {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onValue: (value: T) => void;
  hint?: ComponentChildren;
  error?: string | undefined;
  name?: string;
}

export function SelectField<T extends string>({ label, value, options, onValue, hint, error, name }: SelectFieldProps<T>) {
  return (
    <FieldFrame label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <select
          id={id}
          name={name}
          value={value}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          onChange={(event) => onValue((event.currentTarget as HTMLSelectElement).value as T)}
        >
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </FieldFrame>
  );
}

interface CheckProps {
  label: string;
  checked: boolean;
  onChecked: (checked: boolean) => void;
  name?: string;
}

export function CheckField({ label, checked, onChecked, name }: CheckProps) {
  return (
    <label class="check">
      <input type="checkbox" name={name} checked={checked} onChange={(event) => onChecked((event.currentTarget as HTMLInputElement).checked)} />
      {label}
    </label>
  );
}
