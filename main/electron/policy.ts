// Window and IPC security policy, kept free of 'electron' imports so it is unit-tested on plain Node.

/** Every window: sandboxed renderer, isolated context, no Node, no remote content. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  } as const;
}

/** Only the gateway's own UI origin may be shown; everything else is refused. */
export function isAllowedNavigation(target: string, uiOrigin: string): boolean {
  try {
    return new URL(target).origin === uiOrigin;
  } catch {
    return false;
  }
}

export interface IpcSenderFrame {
  url: string;
  isMainFrame: boolean;
}

/** IPC is answered only for the main frame of the UI's own origin (not iframes, not navigated-away pages). */
export function isTrustedSender(frame: IpcSenderFrame | null | undefined, uiOrigin: string): boolean {
  return frame !== null && frame !== undefined && frame.isMainFrame && isAllowedNavigation(frame.url, uiOrigin);
}
