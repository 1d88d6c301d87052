// The main-process side of the preload's API. Every payload is validated again here (a compromised page can
// call ipcRenderer without the preload's checks), and the backend's token goes only to frames that are on
// the backend's own origin.
import type { ElectronLike, IpcMainInvokeEventLike } from './electron-api.js';
import { CHANNELS, chooseFolderRequestSchema, describeIssues, notifyRequestSchema, type BackendInfo, type ChooseFolderRequest, type ChooseFolderResult, type QuickAskEvent } from '../shared/contract.js';
import { originOf } from './windows.js';

export interface IpcHandlers {
  /** The backend's info now, or null while none is running. */
  backend: () => BackendInfo | null;
  notify: (title: string, body: string) => void;
  takeQuickAsk: (webContentsId: number) => QuickAskEvent | null;
  /** The native folder dialog, over the window of the calling page. */
  chooseFolder: (webContentsId: number, request: ChooseFolderRequest) => Promise<ChooseFolderResult>;
}

export function senderOrigin(event: IpcMainInvokeEventLike): string | null {
  const url = event.senderFrame?.url;
  return typeof url === 'string' ? originOf(url) : null;
}

export function registerIpc(ipcMain: ElectronLike['ipcMain'], handlers: IpcHandlers): () => void {
  const fromBackendOrigin = (event: IpcMainInvokeEventLike): BackendInfo => {
    const info = handlers.backend();
    if (!info) throw new Error('the backend is not running');
    if (senderOrigin(event) !== info.baseUrl) throw new Error('refused: the caller is not on the backend origin');
    return info;
  };
  ipcMain.handle(CHANNELS.getBackend, (event: IpcMainInvokeEventLike) => {
    const info = fromBackendOrigin(event);
    return { baseUrl: info.baseUrl, wsUrl: info.wsUrl, token: info.token };
  });
  ipcMain.handle(CHANNELS.notify, (event: IpcMainInvokeEventLike, payload: unknown) => {
    fromBackendOrigin(event);
    const parsed = notifyRequestSchema.safeParse(payload);
    if (!parsed.success) throw new Error(`invalid notification: ${describeIssues(parsed.error)}`);
    handlers.notify(parsed.data.title, parsed.data.body);
  });
  ipcMain.handle(CHANNELS.takeQuickAsk, (event: IpcMainInvokeEventLike) => {
    fromBackendOrigin(event);
    return handlers.takeQuickAsk(event.sender.id);
  });
  ipcMain.handle(CHANNELS.chooseFolder, async (event: IpcMainInvokeEventLike, payload: unknown) => {
    fromBackendOrigin(event);
    const parsed = chooseFolderRequestSchema.safeParse(payload ?? {});
    if (!parsed.success) throw new Error(`invalid folder request: ${describeIssues(parsed.error)}`);
    return await handlers.chooseFolder(event.sender.id, parsed.data);
  });
  return () => {
    for (const channel of Object.values(CHANNELS)) ipcMain.removeHandler(channel);
  };
}
