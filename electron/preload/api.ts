// The page's whole view of the desktop app: `window.westfall` (WestfallDesktopApi). Built from an injected
// ipcRenderer so tests can load it with fakes; electron/preload/index.ts wires the real modules.
// Every argument from the page is validated here, and every answer from the main process is validated
// before it reaches the page. The page never sees an IpcRendererEvent or ipcRenderer itself.
import {
  CHANNELS,
  VERSION_ARG,
  appVersionSchema,
  backendInfoSchema,
  chooseFolderRequestSchema,
  chooseFolderResultSchema,
  describeIssues,
  notifyRequestSchema,
  quickAskEventSchema,
  type BackendInfo,
  type ChooseFolderRequest,
  type QuickAskEvent,
  type WestfallDesktopApi,
} from '../shared/contract.js';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

export const API_KEY = 'westfall';

export function appVersionFromArgv(argv: readonly string[]): string {
  const arg = argv.find((a) => a.startsWith(VERSION_ARG));
  const parsed = appVersionSchema.safeParse(arg?.slice(VERSION_ARG.length));
  return parsed.success ? parsed.data : '0.0.0';
}

export function createWestfallApi(ipc: IpcRendererLike, argv: readonly string[]): WestfallDesktopApi {
  const appVersion = appVersionFromArgv(argv);

  const getBackend = async (): Promise<BackendInfo> => {
    const parsed = backendInfoSchema.safeParse(await ipc.invoke(CHANNELS.getBackend));
    if (!parsed.success) throw new Error(`westfall.getBackend: unexpected answer (${describeIssues(parsed.error)})`);
    return { ...parsed.data };
  };

  const onQuickAsk = (callback: (event: QuickAskEvent) => void): (() => void) => {
    if (typeof callback !== 'function') throw new TypeError('westfall.onQuickAsk: callback must be a function');
    let active = true;
    const deliver = (payload: unknown): void => {
      const parsed = quickAskEventSchema.safeParse(payload);
      if (active && parsed.success) callback({ text: parsed.data.text });
    };
    const listener = (_event: unknown, payload: unknown): void => deliver(payload);
    ipc.on(CHANNELS.quickAsk, listener);
    // A quick-ask that arrived before the page subscribed (a new window, a second launch) waits in the main process.
    ipc.invoke(CHANNELS.takeQuickAsk).then(
      (pending) => {
        if (pending !== null && pending !== undefined) deliver(pending);
      },
      () => undefined,
    );
    return () => {
      active = false;
      ipc.removeListener(CHANNELS.quickAsk, listener);
    };
  };

  const notify = async (title: string, body: string): Promise<void> => {
    const parsed = notifyRequestSchema.safeParse({ title, body });
    if (!parsed.success) throw new TypeError(`westfall.notify: ${describeIssues(parsed.error)}`);
    await ipc.invoke(CHANNELS.notify, parsed.data);
  };

  const chooseFolder = async (options: ChooseFolderRequest = {}): Promise<string | null> => {
    const request = chooseFolderRequestSchema.safeParse(options);
    if (!request.success) throw new TypeError(`westfall.chooseFolder: ${describeIssues(request.error)}`);
    const answer = chooseFolderResultSchema.safeParse(await ipc.invoke(CHANNELS.chooseFolder, request.data));
    if (!answer.success) throw new Error(`westfall.chooseFolder: unexpected answer (${describeIssues(answer.error)})`);
    return answer.data?.path ?? null;
  };

  return Object.freeze({ appVersion, getBackend, onQuickAsk, notify, chooseFolder });
}

export function exposeWestfallApi(bridge: ContextBridgeLike, ipc: IpcRendererLike, argv: readonly string[]): WestfallDesktopApi {
  const api = createWestfallApi(ipc, argv);
  bridge.exposeInMainWorld(API_KEY, api);
  return api;
}
