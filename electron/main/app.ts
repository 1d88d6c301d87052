// The desktop app's main process, with the electron module injected (see electron-api.ts): single instance,
// backend supervision, windows, tray, quick ask, notifications, and the quit sequence
//   stop accepting UI (shortcut, IPC, tray, windows) → stop the backend (SIGTERM, then SIGKILL) → app.quit().
import { BackendSupervisor, type BackendAddress, type BackendSupervisorOptions, type CrashInfo, type FailureInfo } from './backend.js';
import { createBackendClient, type BackendClient } from './backend-client.js';
import type { BrowserWindowLike, ElectronLike, EventLike, WebContentsLike } from './electron-api.js';
import { registerIpc } from './ipc.js';
import { createNotifier, NotificationHub, type NotificationSource, type Notifier } from './notifications.js';
import { QuickAsk, registerQuickAskShortcut } from './quick-ask.js';
import type { DesktopSettings } from './settings.js';
import { acquireSingleInstance, parseDesktopArgs, type DesktopArgs } from './single-instance.js';
import { AppTray, ModelControl, type TrayState } from './tray.js';
import { WorkerShare, type WorkerShareOptions } from './worker-share.js';
import {
  buildCsp,
  createMainWindow,
  errorScreenUrl,
  hardenSession,
  hardenWebContents,
  reveal,
  startingScreenUrl,
} from './windows.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string, data?: Record<string, unknown>) => void;

export interface DesktopAppOptions {
  /** This process's own arguments (without the executable and, unpackaged, the script). */
  args: readonly string[];
  /** The compiled, bundled preload (dist/electron/preload/index.cjs). */
  preloadPath: string;
  /** Window and tray icons. */
  iconPath?: string;
  trayIconPath: string;
  /** How to run the backend (the token, host and port are chosen by the supervisor). */
  backend: BackendSupervisorOptions;
  /** How to run `westfall worker` for the tray's "Share this computer's memory"; absent: no such item. */
  worker?: Omit<WorkerShareOptions, 'host' | 'port'>;
  settings: DesktopSettings;
  /** Notification sources (downloads, reminders, …), started whenever the backend is ready. */
  sources?: readonly NotificationSource[];
  /** Shown on the error screen. */
  logsDir?: string;
  /** Upper bound of the whole quit sequence before app.exit(). */
  quitTimeoutMs?: number;
  log?: Log;
  fetch?: typeof fetch;
}

export type ShutdownStep = 'ui-closed' | 'backend-stopped' | 'app-quit';

export interface DesktopApp {
  /** False in a second instance, which hands its arguments over and quits. */
  readonly primary: boolean;
  /** Resolves once the UI exists and the backend has been asked to start. */
  readonly started: Promise<void>;
  readonly supervisor: BackendSupervisor | null;
  readonly notifier: Notifier | null;
  readonly quickAsk: QuickAsk | null;
  mainWindow(): BrowserWindowLike | null;
  /** The quit sequence, in order (for diagnostics and tests). */
  readonly shutdownSteps: readonly ShutdownStep[];
  /** Resolves when the quit sequence has finished. */
  readonly quitDone: Promise<void>;
}

export function startDesktopApp(electron: ElectronLike, options: DesktopAppOptions): DesktopApp {
  const { app } = electron;
  const log: Log = options.log ?? (() => undefined);
  const args = parseDesktopArgs(options.args);

  let resolveQuit!: () => void;
  const quitDone = new Promise<void>((r) => (resolveQuit = r));

  const primary = acquireSingleInstance(app, { args: options.args, onSecondInstance: (a) => handleArgs(a, true) });
  if (!primary) {
    log('info', 'another instance is running; handed the arguments over');
    app.quit();
    resolveQuit();
    return {
      primary: false,
      started: Promise.resolve(),
      supervisor: null,
      notifier: null,
      quickAsk: null,
      mainWindow: () => null,
      shutdownSteps: [],
      quitDone,
    };
  }

  const supervisor = new BackendSupervisor({
    ...options.backend,
    log: (level, message, data) => {
      log(level, message, data);
      options.backend.log?.(level, message, data);
    },
  });
  const shutdownSteps: ShutdownStep[] = [];
  let phase: 'running' | 'shutting-down' | 'done' = 'running';
  let win: BrowserWindowLike | null = null;
  let tray: AppTray | null = null;
  let notifier: Notifier | null = null;
  let unregisterIpc: (() => void) | null = null;
  let lastFailure: FailureInfo | null = null;
  let pendingQuickAsk: string | null = null;
  let toldAboutTray = false;
  let client: BackendClient | null = null;
  const model = new ModelControl();
  const share = options.worker ? new WorkerShare({ ...options.worker, host: options.settings.workerHost, port: options.settings.workerPort }) : null;
  const shortcut = options.settings.quickAskShortcut;

  const backendOrigin = (): string | null => supervisor.address?.baseUrl ?? null;
  const notify = (title: string, body: string): void => notifier?.notify(title, body);
  const hub = new NotificationHub(options.sources ?? [], (t, b, o) => notifier?.notify(t, b, o), (m, d) => log('info', m, d));
  const quickAsk = new QuickAsk(electron, {
    preloadPath: options.preloadPath,
    appVersion: app.getVersion(),
    baseUrl: () => (supervisor.state === 'ready' ? backendOrigin() : null),
  });

  // ---- the main window -------------------------------------------------------------------------------
  const contentUrl = (): string => {
    const addr = supervisor.address;
    if (supervisor.state === 'ready' && addr) return `${addr.baseUrl}/`;
    if (supervisor.state === 'failed' && lastFailure) return errorScreenUrl(failureScreen(lastFailure));
    return startingScreenUrl(supervisor.state === 'restarting' ? 'The engine stopped unexpectedly; restarting it…' : undefined);
  };
  const failureScreen = (f: FailureInfo) => ({ message: f.message, outputTail: f.outputTail, ...(options.logsDir ? { logsDir: options.logsDir } : {}) });

  const load = (target: BrowserWindowLike, url: string): void => {
    if (target.isDestroyed()) return;
    target.loadURL(url).catch((err: unknown) => log('warn', 'a page failed to load', { err: String(err) }));
  };

  const ensureMainWindow = (show: boolean): BrowserWindowLike | null => {
    if (phase !== 'running') return null;
    if (win && !win.isDestroyed()) return win;
    const created = createMainWindow(electron, {
      preloadPath: options.preloadPath,
      appVersion: app.getVersion(),
      ...(options.iconPath ? { iconPath: options.iconPath } : {}),
      show,
    });
    created.on('close', (event: EventLike) => {
      if (phase !== 'running') return;
      // Closing the window keeps the app in the tray; Quit is in the tray menu.
      event.preventDefault();
      created.hide();
      if (!toldAboutTray) {
        toldAboutTray = true;
        notify('Westfall Assistant is still running', 'It keeps running in the tray. Use Quit in the tray menu to exit.');
      }
    });
    created.on('closed', () => {
      if (win === created) win = null;
    });
    win = created;
    load(created, contentUrl());
    return created;
  };

  const showMain = (): void => {
    const w = ensureMainWindow(true);
    if (w) reveal(w);
  };

  // ---- arguments (first launch and later launches) ----------------------------------------------------------
  function handleArgs(a: DesktopArgs, fromSecondInstance: boolean): void {
    if (phase !== 'running') return;
    if (a.quickAsk !== undefined) {
      if (!quickAsk.open(a.quickAsk)) {
        pendingQuickAsk = a.quickAsk;
        if (fromSecondInstance) showMain();
      }
      return;
    }
    if (fromSecondInstance) showMain();
  }

  // ---- tray -----------------------------------------------------------------------------------------
  const trayState = (): TrayState => ({
    backend: supervisor.state === 'ready' ? 'ready' : supervisor.state === 'failed' ? 'failed' : supervisor.state === 'restarting' ? 'restarting' : supervisor.state === 'stopping' || supervisor.state === 'stopped' ? 'stopping' : 'starting',
    modelPaused: model.pausedFileName !== null,
    modelBusy: model.busy,
    shortcut,
    ...(share ? { share: { state: share.state, endpoint: share.endpoint } } : {}),
  });
  const updateTray = (): void => tray?.update(trayState());
  share?.on('state', (s) => {
    updateTray();
    if (s === 'on') notify("Sharing this computer's memory", `Another Westfall can use this computer as the worker ${share.endpoint}. Choose it again in the tray to stop.`);
    if (s === 'failed') notify('Could not share this computer', share.error ?? 'The worker stopped.');
  });

  const modelAction = async (kind: 'pause' | 'resume'): Promise<void> => {
    if (!client || model.busy) return;
    model.busy = true;
    updateTray();
    try {
      const name = kind === 'pause' ? await model.pause(client) : await model.resume(client);
      notify(kind === 'pause' ? 'Model paused' : 'Model resumed', kind === 'pause' ? `${name} was unloaded to free memory.` : `${name} is loaded again.`);
    } catch (err) {
      notify(kind === 'pause' ? 'Could not pause the model' : 'Could not resume the model', (err as Error).message);
    } finally {
      model.busy = false;
      updateTray();
    }
  };

  // ---- backend events ----------------------------------------------------------------------------------
  let everReady = false;
  supervisor.on('state', () => updateTray());
  supervisor.on('ready', (addr: BackendAddress) => {
    if (phase !== 'running') return;
    lastFailure = null;
    client = createBackendClient(addr, options.fetch);
    hub.start(client);
    if (everReady) {
      notify('The assistant is running again', 'Its engine was restarted.');
      quickAsk.invalidate();
      // A paused model is gone with the old process; the new one loads what its settings say.
      model.pausedFileName = null;
    }
    everReady = true;
    if (win && !win.isDestroyed()) load(win, `${addr.baseUrl}/`);
    if (pendingQuickAsk !== null) {
      const text = pendingQuickAsk;
      pendingQuickAsk = null;
      quickAsk.open(text);
    }
    updateTray();
  });
  supervisor.on('crash', (info: CrashInfo) => {
    if (phase !== 'running') return;
    hub.stop();
    client = null;
    const seconds = Math.max(1, Math.round(info.delayMs / 1000));
    const why = info.reason === 'health_timeout' ? 'did not respond' : 'stopped unexpectedly';
    notify('The assistant’s engine ' + why, `Restarting it in ${seconds} s (attempt ${info.attempt + 1} of ${info.maxRestarts}).`);
    quickAsk.invalidate();
    if (win && !win.isDestroyed()) load(win, startingScreenUrl('The engine stopped unexpectedly; restarting it…'));
  });
  supervisor.on('failed', (info: FailureInfo) => {
    if (phase !== 'running') return;
    hub.stop();
    client = null;
    lastFailure = info;
    quickAsk.invalidate();
    notify('Westfall Assistant could not start', info.message);
    const w = ensureMainWindow(true);
    if (w) {
      load(w, errorScreenUrl(failureScreen(info)));
      reveal(w);
    }
  });

  // ---- the quit sequence ---------------------------------------------------------------------------------
  const step = (s: ShutdownStep): void => {
    shutdownSteps.push(s);
    log('info', `quit: ${s}`);
  };
  const shutdown = async (): Promise<void> => {
    // 1. Stop accepting UI: no shortcut, no IPC, no tray, no windows.
    try {
      electron.globalShortcut.unregisterAll();
    } catch {
      // not ready yet
    }
    unregisterIpc?.();
    unregisterIpc = null;
    tray?.destroy();
    tray = null;
    quickAsk.destroy();
    const w = win;
    win = null;
    if (w && !w.isDestroyed()) w.destroy();
    hub.stop();
    step('ui-closed');
    await share?.stop();
    // 2. Stop the backend gracefully.
    try {
      await supervisor.stop(); // logs the result
    } catch (err) {
      log('error', 'stopping the backend failed', { err: String(err) });
    }
    step('backend-stopped');
    // 3. Quit for real.
    phase = 'done';
    step('app-quit');
    app.quit();
    resolveQuit();
  };
  app.on('before-quit', (event: EventLike) => {
    if (phase === 'done') return;
    event.preventDefault();
    if (phase === 'shutting-down') return;
    phase = 'shutting-down';
    const limit = options.quitTimeoutMs ?? (options.backend.stopTimeoutMs ?? 10_000) + 10_000;
    const guard = setTimeout(() => {
      log('error', 'the quit sequence took too long; exiting');
      app.exit(1);
      resolveQuit();
    }, limit);
    guard.unref();
    void shutdown().finally(() => clearTimeout(guard));
  });
  // The app lives in the tray: closing every window does not quit.
  app.on('window-all-closed', () => undefined);
  app.on('activate', () => showMain());
  app.on('web-contents-created', (_event: unknown, contents: WebContentsLike) =>
    hardenWebContents(contents, {
      backendOrigin,
      openExternal: (url) => electron.shell.openExternal(url),
      log: (m, d) => log('warn', m, d),
    }),
  );

  const started = (async () => {
    await app.whenReady();
    if (phase !== 'running') return;
    hardenSession(
      electron.session.defaultSession,
      () => {
        const addr = supervisor.address;
        return addr ? buildCsp({ httpOrigin: addr.baseUrl, wsOrigin: addr.wsUrl }) : "default-src 'none'";
      },
      (m, d) => log('warn', m, d),
    );
    notifier = createNotifier(electron, { onClickDefault: showMain, log: (m, d) => log('info', m, d) });
    unregisterIpc = registerIpc(electron.ipcMain, {
      backend: () => {
        const addr = supervisor.address;
        return addr ? { baseUrl: addr.baseUrl, wsUrl: addr.wsUrl, token: addr.token } : null;
      },
      notify,
      takeQuickAsk: (id) => quickAsk.takePending(id),
      chooseFolder: async (senderId, request) => {
        // The dialog is modal to the window that asked, so it cannot open behind it or outlive it.
        const parent = [win, quickAsk.window].find((w) => w && !w.isDestroyed() && w.webContents.id === senderId);
        if (!parent) throw new Error('refused: the caller is not a Westfall window');
        const r = await electron.dialog.showOpenDialog(parent, { title: request.title ?? 'Choose a folder', buttonLabel: 'Choose', properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'] });
        const path = r.canceled ? undefined : r.filePaths[0];
        return path ? { path } : null;
      },
    });
    if (!args.hidden) ensureMainWindow(true);
    try {
      tray = new AppTray(electron, options.trayIconPath, {
        open: showMain,
        quickAsk: () => {
          if (!quickAsk.open('')) notify('Not ready yet', 'The assistant is still starting.');
        },
        pauseModel: () => void modelAction('pause'),
        resumeModel: () => void modelAction('resume'),
        retryBackend: () => {
          supervisor.retry();
          if (win && !win.isDestroyed()) load(win, startingScreenUrl());
        },
        toggleShare: () => {
          if (!share) return;
          if (share.state === 'off' || share.state === 'failed') share.start();
          else void share.stop();
        },
        quit: () => app.quit(),
      });
      updateTray();
    } catch (err) {
      log('warn', 'no tray on this system', { err: String(err) });
    }
    const sc = registerQuickAskShortcut(electron.globalShortcut, shortcut, () => quickAsk.toggle());
    if (sc.accelerator && !sc.registered) {
      notify('Quick-ask shortcut unavailable', `${sc.accelerator} is used by another application. Choose another one in desktop.json.`);
    }
    if (args.quickAsk !== undefined) pendingQuickAsk = args.quickAsk;
    supervisor.start().catch(() => undefined); // failures arrive as the 'failed' event
  })();

  return {
    primary: true,
    started,
    supervisor,
    get notifier() {
      return notifier;
    },
    quickAsk,
    mainWindow: () => (win && !win.isDestroyed() ? win : null),
    shutdownSteps,
    quitDone,
  };
}
