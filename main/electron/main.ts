// Electron entry: runs the gateway in the main process and shows the setup UI in a locked-down window.
import { app, BrowserWindow, ipcMain, Menu, session, type IpcMainInvokeEvent } from 'electron';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { configFileFrom } from '../config/location.js';
import { LogRing } from '../log/log-ring.js';
import { createLogger } from '../log/logger.js';
import { runUntilSignalled } from '../service/run.js';
import { eventVisibleTo } from '../api/handlers.js';
import { IPC_EVENT_CHANNEL } from '../shared/api.js';
import { createIpcHandlers, type IpcHandlerTable } from './ipc-handlers.js';
import { isCrash, isKioskBlockedKey, planRecovery, stepsToSurface, windowChrome } from './kiosk.js';
import { isAllowedNavigation, secureWebPreferences } from './policy.js';

const PRELOAD = fileURLToPath(new URL('../../preload/index.cjs', import.meta.url));
const CONFIG = configFileFrom(undefined, process.env);

function registerIpc(table: IpcHandlerTable): void {
  for (const [channel, handler] of table.handlers) {
    ipcMain.handle(channel, (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const frame = event.senderFrame;
      return handler({ id: event.sender.id, frame: frame ? { url: frame.url, isMainFrame: frame.parent === null } : null }, args);
    });
  }
}

async function main(): Promise<void> {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  const config = loadConfig(CONFIG);
  const logs = new LogRing();
  const gateway = await runUntilSignalled(config, createLogger({ level: config.log.level, ring: logs }), { logs, configFile: CONFIG });
  if (!gateway.apiServer) throw new Error('the desktop window needs ui.enabled: true');
  const uiOrigin = new URL(gateway.apiServer.url).origin;
  const table = createIpcHandlers({ control: gateway.control, uiOrigin, localWindow: config.ui.localWindow });
  registerIpc(table);
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  // The self-signed HTTPS certificate of our own server is trusted by its fingerprint, nothing else.
  session.defaultSession.setCertificateVerifyProc((request, callback) => {
    const ours = request.hostname.replace(/^\[|\]$/g, '') === new URL(uiOrigin).hostname.replace(/^\[|\]$/g, '');
    const pinned = request.certificate.fingerprint === `sha256/${fingerprintBase64(gateway.apiServer?.httpsFingerprint)}`;
    // 0 accepts; -3 leaves the decision to Chromium's own verification.
    callback(ours && pinned ? 0 : -3);
  });

  const { devTools, ...chrome } = windowChrome(config.ui.kiosk);
  if (config.ui.kiosk) Menu.setApplicationMenu(null);
  const window = new BrowserWindow({ ...chrome, show: false, webPreferences: { ...secureWebPreferences(PRELOAD), devTools } });
  app.on('second-instance', () => {
    const steps = stepsToSurface(window.isDestroyed() ? undefined : { minimized: window.isMinimized(), visible: window.isVisible() });
    for (const step of steps) window[step]();
  });
  if (config.ui.kiosk) {
    window.webContents.on('before-input-event', (event, input) => {
      if (isKioskBlockedKey(input)) event.preventDefault();
    });
  }
  // Crash and hang recovery: reload the UI (at once, or with a growing delay in a crash loop).
  let crashes: number[] = [];
  const recover = () => {
    const plan = planRecovery(crashes, Date.now());
    crashes = plan.recent;
    setTimeout(() => {
      if (!window.isDestroyed()) window.webContents.reload();
    }, plan.delayMs);
  };
  window.webContents.on('render-process-gone', (_event, details) => {
    if (isCrash(details.reason)) recover();
  });
  window.on('unresponsive', () => window.webContents.forcefullyCrashRenderer());
  const senderId = window.webContents.id;
  const unsubscribe = gateway.control.events.subscribe((event) => {
    if (!window.isDestroyed() && eventVisibleTo(event, table.roleOf(senderId))) window.webContents.send(IPC_EVENT_CHANNEL, event);
  });
  window.on('closed', () => {
    unsubscribe();
    table.forgetSender(senderId);
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, uiOrigin)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.once('ready-to-show', () => window.show());
  await window.loadURL(uiOrigin);
  app.on('window-all-closed', () => process.kill(process.pid, 'SIGTERM'));
}

/** Electron names certificates `sha256/<base64>`; ours is colon-separated hex. */
function fingerprintBase64(hex: string | undefined): string {
  return hex === undefined ? '' : Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64');
}

main().catch((error: unknown) => {
  process.stderr.write(`fieldgate: ${error instanceof Error ? error.message : String(error)}\n`);
  app.exit(1);
});
