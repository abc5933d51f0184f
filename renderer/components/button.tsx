import type { ComponentChildren, JSX } from 'preact';

type ButtonProps = Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, 'type'> & {
  variant?: 'primary' | 'secondary' | 'danger' | 'link';
  busy?: boolean;
  children: ComponentChildren;
  type?: 'button' | 'submit';
  disabled?: boolean;
};

/** A button at least 44 px square; `busy` disables it and says so to screen readers. */
export function Button({ variant = 'secondary', busy = false, disabled, type = 'button', children, ...rest }: ButtonProps) {
  return (
    <button {...rest} type={type} class={variant === 'secondary' ? undefined : variant} disabled={disabled || busy} aria-busy={busy || undefined}>
      {children}
    </button>
  );
}
