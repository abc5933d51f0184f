import { signal } from '@preact/signals';

/** Hash routes, so the same files work from the HTTP server and in the Electron window. */
export type RouteName = 'overview' | 'sensors' | 'add-serial' | 'add-ble' | 'cloud' | 'updates' | 'logs' | 'settings' | 'account' | 'about';

const ROUTES: readonly RouteName[] = ['overview', 'sensors', 'add-serial', 'add-ble', 'cloud', 'updates', 'logs', 'settings', 'account', 'about'];

function parse(hash: string): RouteName {
  const name = hash.replace(/^#\/?/, '') as RouteName;
  return ROUTES.includes(name) ? name : 'overview';
}

export const route = signal<RouteName>(parse(location.hash));

window.addEventListener('hashchange', () => {
  route.value = parse(location.hash);
});

export function href(name: RouteName): string {
  return `#/${name}`;
}

export function navigate(name: RouteName): void {
  location.hash = href(name);
}
