// The renderer's only door to the gateway: one function per API method, nothing generic.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('fieldgate', {
  status: () => ipcRenderer.invoke('fieldgate:status'),
});
