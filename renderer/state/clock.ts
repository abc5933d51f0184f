import { signal } from '@preact/signals';

/** Ticks once a second so relative times ("12 s ago") and countdowns stay current. */
export const now = signal(Date.now());
setInterval(() => {
  now.value = Date.now();
}, 1000);
