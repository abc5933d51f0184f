// Electron entry: runs the gateway in the main process and shows the setup UI in a locked-down window.
import { app, BrowserWindow, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { configFileFrom } from '../config/location.js';
import { LogRing } from '../log/log-ring.js';
import { createLogger } from '../log/logger.js';
import { runUntilSignalled } from '../service/run.js';
import { eventVisibleTo } from '../api/handlers.js';
import { IPC_EVENT_CHANNEL } from '../shared/api.js';
import { createIpcHandlers, type IpcHandlerTable } from './ipc-handlers.js';
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

  const window = new BrowserWindow({ width: 1100, height: 760, show: false, webPreferences: secureWebPreferences(PRELOAD) });
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
