// The tray icon and its menu: open, quick ask, pause/resume the model, retry (after a failed start), quit.
// Pausing unloads the model (POST /api/models/unload) and remembers its file; resuming loads it again
// (POST /api/models/load { fileName }).
import { basename } from 'node:path';
import type { BackendClient } from './backend-client.js';
import type { ElectronLike, MenuTemplateItem, TrayLike } from './electron-api.js';

export interface ModelStatus {
  state: string;
  path?: string;
}

/** Pause/resume of the loaded model through the backend's model routes. */
export class ModelControl {
  /** The file of the model paused by us, to load again on resume. */
  pausedFileName: string | null = null;
  busy = false;

  async current(client: BackendClient): Promise<ModelStatus | null> {
    const res = await client.json<{ loaded?: ModelStatus | null }>('GET', '/api/models');
    return res?.loaded ?? null;
  }

  async pause(client: BackendClient): Promise<string> {
    const status = await this.current(client);
    if (!status || status.state !== 'ready' || !status.path) throw new Error('No model is loaded.');
    const fileName = basename(status.path);
    await client.json('POST', '/api/models/unload');
    this.pausedFileName = fileName;
    return fileName;
  }

  async resume(client: BackendClient): Promise<string> {
    const fileName = this.pausedFileName;
    if (!fileName) throw new Error('No paused model to resume.');
    await client.json('POST', '/api/models/load', { fileName });
    this.pausedFileName = null;
    return fileName;
  }
}

export interface TrayState {
  backend: 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping';
  modelPaused: boolean;
  modelBusy: boolean;
  shortcut: string | null;
  /** "Share this computer's memory" (`westfall worker`); absent where the app cannot run one. */
  share?: { state: 'off' | 'starting' | 'on' | 'failed'; endpoint: string | null };
}

export interface TrayActions {
  open(): void;
  quickAsk(): void;
  pauseModel(): void;
  resumeModel(): void;
  retryBackend(): void;
  toggleShare?(): void;
  quit(): void;
}

export function trayMenuTemplate(state: TrayState, actions: TrayActions): MenuTemplateItem[] {
  const ready = state.backend === 'ready';
  const status =
    state.backend === 'ready'
      ? state.modelPaused
        ? 'Model paused'
        : 'Running'
      : state.backend === 'failed'
        ? 'Engine failed to start'
        : state.backend === 'restarting'
          ? 'Engine restarting…'
          : state.backend === 'stopping'
            ? 'Stopping…'
            : 'Starting…';
  const items: MenuTemplateItem[] = [
    { id: 'status', label: status, enabled: false },
    { type: 'separator' },
    { id: 'open', label: 'Open Westfall Assistant', click: () => actions.open() },
    {
      id: 'quick-ask',
      label: 'Quick ask',
      enabled: ready,
      ...(state.shortcut ? { accelerator: state.shortcut, registerAccelerator: false } : {}),
      click: () => actions.quickAsk(),
    },
    { type: 'separator' },
    state.modelPaused
      ? { id: 'resume-model', label: 'Resume model', enabled: ready && !state.modelBusy, click: () => actions.resumeModel() }
      : { id: 'pause-model', label: 'Pause model', enabled: ready && !state.modelBusy, click: () => actions.pauseModel() },
  ];
  if (state.share && actions.toggleShare) {
    const on = state.share.state === 'on' || state.share.state === 'starting';
    items.push({
      id: 'share',
      label: "Share this computer's memory",
      type: 'checkbox',
      checked: on,
      click: () => actions.toggleShare!(),
    });
    if (state.share.state === 'on' && state.share.endpoint) items.push({ id: 'share-address', label: `Worker at ${state.share.endpoint}`, enabled: false });
  }
  if (state.backend === 'failed') items.push({ id: 'retry', label: 'Retry starting the engine', click: () => actions.retryBackend() });
  items.push({ type: 'separator' }, { id: 'quit', label: 'Quit Westfall Assistant', click: () => actions.quit() });
  return items;
}

export class AppTray {
  private tray: TrayLike | null;

  constructor(
    private readonly electron: Pick<ElectronLike, 'Tray' | 'Menu' | 'nativeImage'>,
    iconPath: string,
    private readonly actions: TrayActions,
  ) {
    let image = electron.nativeImage.createFromPath(iconPath);
    if (image.isEmpty()) image = electron.nativeImage.createEmpty();
    this.tray = new electron.Tray(image);
    this.tray.setToolTip('Westfall Assistant');
    // Windows and Linux: a click opens the window (macOS shows the menu).
    this.tray.on('click', () => actions.open());
  }

  update(state: TrayState): void {
    if (!this.tray || this.tray.isDestroyed()) return;
    this.tray.setContextMenu(this.electron.Menu.buildFromTemplate(trayMenuTemplate(state, this.actions)));
  }

  destroy(): void {
    if (this.tray && !this.tray.isDestroyed()) this.tray.destroy();
    this.tray = null;
  }
}
