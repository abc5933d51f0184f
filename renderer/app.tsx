import { useEffect } from 'preact/hooks';
import { Banner } from './components/banner.js';
import { Toasts } from './components/toasts.js';
import { NavIcon } from './icons.js';
import { href, route, type RouteName } from './router.js';
import { AboutScreen } from './screens/about.js';
import { AccountScreen } from './screens/account.js';
import { AddBleScreen } from './screens/add-ble.js';
import { AddSerialScreen } from './screens/add-serial.js';
import { CloudScreen } from './screens/cloud.js';
import { FirstRunScreen } from './screens/first-run.js';
import { LoginScreen } from './screens/login.js';
import { LogsScreen } from './screens/logs.js';
import { OverviewScreen } from './screens/overview.js';
import { SensorsScreen } from './screens/sensors.js';
import { SettingsScreen } from './screens/settings.js';
import { UpdatesScreen } from './screens/updates.js';
import { SessionBanner } from './session-banner.js';
import { connection, startLive, status } from './state/live.js';
import { isAdmin, session, signedIn } from './state/session.js';
import type { JSX } from 'preact';

interface Screen {
  label: string;
  /** Shown in the rail; sub-screens (add serial, add BLE) live under their parent. */
  nav: RouteName;
  admin: boolean;
  render: () => JSX.Element;
}

const SCREENS: Record<RouteName, Screen> = {
  overview: { label: 'Overview', nav: 'overview', admin: false, render: () => <OverviewScreen /> },
  sensors: { label: 'Sensors', nav: 'sensors', admin: false, render: () => <SensorsScreen /> },
  'add-serial': { label: 'Add serial sensor', nav: 'sensors', admin: false, render: () => <AddSerialScreen /> },
  'add-ble': { label: 'Add BLE sensor', nav: 'sensors', admin: false, render: () => <AddBleScreen /> },
  cloud: { label: 'Cloud', nav: 'cloud', admin: true, render: () => <CloudScreen /> },
  updates: { label: 'Updates', nav: 'updates', admin: true, render: () => <UpdatesScreen /> },
  logs: { label: 'Logs', nav: 'logs', admin: false, render: () => <LogsScreen /> },
  settings: { label: 'Settings', nav: 'settings', admin: true, render: () => <SettingsScreen /> },
  account: { label: 'Account', nav: 'account', admin: false, render: () => <AccountScreen /> },
  about: { label: 'About', nav: 'about', admin: false, render: () => <AboutScreen /> },
};

const RAIL: readonly RouteName[] = ['overview', 'sensors', 'cloud', 'updates', 'logs', 'settings', 'account', 'about'];

function NotAllowed() {
  return (
    <div class="stack">
      <h1>Not available</h1>
      <p>This screen is for administrators. Ask an administrator to sign in if the cloud, updates or settings need changing.</p>
      <p>
        <a class="button" href={href('overview')}>
          Go to the overview
        </a>
      </p>
    </div>
  );
}

/** On every screen: how many alerts are active, linking to the overview that lists them. */
function AlertsLink() {
  const counts = status.value?.alerts.counts;
  const total = counts ? counts.critical + counts.warning + counts.info : 0;
  if (!counts || total === 0) return null;
  return (
    <a class={`topbar-alerts ${counts.critical > 0 ? 'critical' : counts.warning > 0 ? 'warning' : 'info'}`} href={href('overview')} id="topbar-alerts">
      {total} active alert{total === 1 ? '' : 's'}
    </a>
  );
}

function Shell() {
  useEffect(() => startLive(), []);
  const screen = SCREENS[route.value];
  const allowed = !screen.admin || isAdmin.value;
  const user = signedIn.value;
  useEffect(() => {
    document.title = `${screen.label} · fieldgate`;
  }, [screen.label]);
  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">fieldgate</span>
        <span class="gateway">{status.value ? `${status.value.gatewayId} · v${status.value.version}` : ''}</span>
        <AlertsLink />
        {user && (
          <span class="user">
            <span>
              {user.username} <span class="muted">({user.role})</span>
            </span>
          </span>
        )}
      </header>
      <nav class="rail" aria-label="Screens">
        <ul>
          {RAIL.filter((name) => !SCREENS[name].admin || isAdmin.value).map((name) => (
            <li key={name}>
              <a href={href(name)} aria-current={screen.nav === name ? 'page' : undefined}>
                <NavIcon name={name} />
                {SCREENS[name].label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="content">
        <div class="banners">
          {connection.value === 'lost' && <Banner>Connection to the gateway lost. Reconnecting… Values shown may be out of date until it is back.</Banner>}
          <SessionBanner />
          <Toasts />
        </div>
        <main class="screen" id="screen" data-screen={route.value} tabIndex={0} aria-label={screen.label}>
          {allowed ? screen.render() : <NotAllowed />}
        </main>
      </div>
    </div>
  );
}

export function App() {
  const current = session.value;
  return (
    <>
      {current.phase === 'loading' && <p class="auth">Connecting to the gateway…</p>}
      {current.phase === 'unreachable' && (
        <main class="auth">
          <div class="card" role="alert">
            <h1>Cannot reach the gateway</h1>
            <p>{current.message}</p>
            <p>Check that the fieldgate service is running, then reload this page.</p>
          </div>
        </main>
      )}
      {current.phase === 'first-run' && <FirstRunScreen where={current.where} codeExpiresAt={current.codeExpiresAt} shownCode={current.code} />}
      {current.phase === 'login' && <LoginScreen reason={current.reason} />}
      {current.phase === 'ready' && <Shell />}
    </>
  );
}
