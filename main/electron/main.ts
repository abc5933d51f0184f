// Electron entry: runs the gateway in the main process and shows the setup UI in a locked-down window.
import { app, BrowserWindow, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { runUntilSignalled } from '../service/run.js';
import type { StatusBackend } from '../api/backends.js';
import { ipcChannels, parseIpcArguments, type IpcChannel } from './ipc-channels.js';
import { isAllowedNavigation, isTrustedSender, secureWebPreferences } from './policy.js';

const PRELOAD = fileURLToPath(new URL('../../preload/index.cjs', import.meta.url));
const CONFIG = process.env.FIELDGATE_CONFIG ?? '/etc/fieldgate/fieldgate.yaml';

function registerIpc(api: StatusBackend, uiOrigin: string): void {
  const handlers: Record<IpcChannel, () => Promise<unknown>> = { 'fieldgate:status': async () => api.status() };
  for (const channel of Object.keys(ipcChannels) as IpcChannel[]) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const frame = event.senderFrame;
      if (!isTrustedSender(frame && { url: frame.url, isMainFrame: frame.parent === null }, uiOrigin)) {
        throw new Error('IPC refused: untrusted sender frame');
      }
      parseIpcArguments(channel, args);
      return handlers[channel]();
    });
  }
}

async function main(): Promise<void> {
  app.enableSandbox();
  await app.whenReady();
  const config = loadConfig(CONFIG);
  const gateway = await runUntilSignalled(config, createLogger({ level: config.log.level }));
  if (!gateway.apiServer) throw new Error('the desktop window needs ui.enabled: true');
  const uiOrigin = new URL(gateway.apiServer.url).origin;
  registerIpc(gateway.api.status, uiOrigin);
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));

  const window = new BrowserWindow({ width: 1100, height: 760, show: false, webPreferences: secureWebPreferences(PRELOAD) });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, uiOrigin)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.once('ready-to-show', () => window.show());
  await window.loadURL(uiOrigin);
  app.on('window-all-closed', () => process.kill(process.pid, 'SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`fieldgate: ${error instanceof Error ? error.message : String(error)}\n`);
  app.exit(1);
});
