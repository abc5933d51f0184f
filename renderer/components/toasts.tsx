import { signal } from '@preact/signals';

interface Toast {
  id: number;
  text: string;
}

const toasts = signal<Toast[]>([]);
let nextId = 1;

const SHOWN = 2;
const LIFETIME_MS = 6000;

/** Short confirmations ("Sensor saved"); errors stay next to the thing that failed instead. */
export function showToast(text: string): void {
  const toast = { id: nextId++, text };
  toasts.value = [...toasts.value, toast].slice(-SHOWN);
  setTimeout(() => dismiss(toast.id), LIFETIME_MS);
}

function dismiss(id: number): void {
  toasts.value = toasts.value.filter((toast) => toast.id !== id);
}

/** In the page flow under the top bar, so a confirmation never covers a control. */
export function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((toast) => (
        <div class="toast" key={toast.id}>
          <span>{toast.text}</span>
          <button type="button" onClick={() => dismiss(toast.id)} aria-label={`Dismiss: ${toast.text}`}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
