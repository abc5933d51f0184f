import type { RouteName } from './router.js';

/** Stroke icons for the navigation rail (24×24 grid, drawn for this UI). */
const PATHS: Partial<Record<RouteName, string>> = {
  overview: 'M3 12h4l3-8 4 16 3-8h4',
  sensors: 'M12 3a5 5 0 0 0-3 9v5h6v-5a5 5 0 0 0-3-9zM9 20h6',
  cloud: 'M7 18h10a4 4 0 0 0 0-8 6 6 0 0 0-11.5 1.5A3.5 3.5 0 0 0 7 18z',
  updates: 'M12 3v12M7 10l5 5 5-5M4 20h16',
  logs: 'M5 5h14M5 10h14M5 15h10M5 20h7',
  settings: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1 7 17M17 7l2.1-2.1',
  account: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0',
  about: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 11v6M12 7v.5',
};

export function NavIcon({ name }: { name: RouteName }) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d={PATHS[name] ?? ''} />
    </svg>
  );
}
