// Kiosk and single-instance decisions for the box's own window, free of 'electron' imports so they
// are unit-tested on plain Node; main.ts applies them.

/** BrowserWindow options beyond the secure webPreferences: a kiosk fills the screen and has no way out. */
export function windowChrome(kiosk: boolean) {
  return kiosk
    ? { kiosk: true, fullscreen: true, frame: false, autoHideMenuBar: true, devTools: false }
    : { kiosk: false, fullscreen: false, frame: true, autoHideMenuBar: false, devTools: true, width: 1100, height: 760 };
}

export interface KeyInput {
  type: string;
  key: string;
  control: boolean;
  shift: boolean;
  alt: boolean;
  meta: boolean;
}

/**
 * Keys a kiosk swallows: the developer tools (F12, Ctrl+Shift+I/J/C), view source (Ctrl+U), and
 * closing, quitting or printing the window (Ctrl+W, Ctrl+Q, Alt+F4, Ctrl+P).
 */
export function isKioskBlockedKey(input: KeyInput): boolean {
  if (input.type !== 'keyDown') return false;
  const key = input.key.toLowerCase();
  const modifier = input.control || input.meta;
  if (key === 'f12') return true;
  if (modifier && input.shift && ['i', 'j', 'c'].includes(key)) return true;
  if (modifier && ['u', 'w', 'q', 'p'].includes(key)) return true;
  return input.alt && key === 'f4';
}

/** A crash loop: this many renderer crashes within windowMs. Its reload delay is capped at maxDelayMs. */
export const CRASH_LOOP = { crashes: 5, windowMs: 60_000, maxDelayMs: 60_000 } as const;

/**
 * When to reload after the renderer crashed or hung: at once, or, when it keeps crashing, after a
 * delay that doubles per crash beyond the loop threshold (capped), so a page that crashes on load
 * does not spin the CPU of a small box. `recent` are earlier crash times (ms), `now` this one; the
 * result carries the crash times to keep for next time.
 */
export function planRecovery(recent: readonly number[], now: number): { delayMs: number; recent: number[] } {
  const kept = [...recent.filter((at) => now - at < CRASH_LOOP.windowMs), now];
  const delayMs = kept.length < CRASH_LOOP.crashes ? 0 : Math.min(CRASH_LOOP.maxDelayMs, 1000 * 2 ** (kept.length - CRASH_LOOP.crashes));
  return { delayMs, recent: kept };
}

/** A renderer gone for these reasons was ended on purpose (app quitting), not crashed: no reload. */
export function isCrash(reason: string): boolean {
  return reason !== 'clean-exit';
}

export type SurfaceStep = 'restore' | 'show' | 'focus';

/**
 * A second launch quits at once (two gateways would contend for the buffer, the serial ports and
 * the UI port); the first instance brings its window forward with these steps.
 */
export function stepsToSurface(window: { minimized: boolean; visible: boolean } | undefined): SurfaceStep[] {
  if (!window) return [];
  return [...(window.minimized ? (['restore'] as const) : []), ...(window.visible ? [] : (['show'] as const)), 'focus'];
}
