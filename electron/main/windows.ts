// Window security: webPreferences, the Content-Security-Policy put on every response, and the handlers that
// block navigation, new windows, <webview> and permission requests. Also the static screens (starting,
// error) shown as data: URLs with their own CSP and no script at all.
import { createHash } from 'node:crypto';
import type {
  BrowserWindowLike,
  BrowserWindowOptions,
  ElectronLike,
  EventLike,
  HeadersReceivedDetails,
  HeadersReceivedResponse,
  SessionLike,
  WebContentsLike,
} from './electron-api.js';
import { VERSION_ARG } from '../shared/contract.js';

/** The webPreferences of every window. */
export function secureWebPreferences(preloadPath: string, appVersion: string): NonNullable<BrowserWindowOptions['webPreferences']> {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    additionalArguments: [`${VERSION_ARG}${appVersion}`],
  };
}

export interface CspOptions {
  /** The backend's http origin, e.g. http://127.0.0.1:8756 ('self' of the pages it serves). */
  httpOrigin: string;
  /** Its WebSocket origin, e.g. ws://127.0.0.1:8756. */
  wsOrigin: string;
}

/**
 * The policy for pages served by the backend: only the backend's own scripts, styles and fonts; network
 * connections only to the backend (http and ws); no inline script, no eval, no plugins, no frames, no
 * forms posting elsewhere. Images and media may also be data:/blob: (album art, generated charts).
 */
export function buildCsp({ httpOrigin, wsOrigin }: CspOptions): string {
  for (const [name, origin, scheme] of [
    ['httpOrigin', httpOrigin, 'http:'],
    ['wsOrigin', wsOrigin, 'ws:'],
  ] as const) {
    const u = new URL(origin);
    if (u.protocol !== scheme || u.origin !== origin.replace(/\/$/, '')) throw new Error(`${name} must be a bare ${scheme}// origin, got ${origin}`);
  }
  const directives: [string, ...string[]][] = [
    ['default-src', "'self'"],
    ['script-src', "'self'"],
    ['style-src', "'self'"],
    ['img-src', "'self'", 'data:', 'blob:'],
    ['font-src', "'self'"],
    ['media-src', "'self'", 'blob:'],
    ['connect-src', httpOrigin, wsOrigin],
    ['worker-src', "'self'"],
    ['manifest-src', "'self'"],
    ['object-src', "'none'"],
    ['frame-src', "'none'"],
    ['child-src', "'none'"],
    ['frame-ancestors', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'none'"],
  ];
  return directives.map((d) => d.join(' ')).join('; ');
}

/** Replaces any Content-Security-Policy header of a response with ours (header names are case-insensitive). */
export function withCspHeader(headers: Record<string, string[]> | undefined, csp: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const lower = k.toLowerCase();
    if (lower === 'content-security-policy' || lower === 'content-security-policy-report-only') continue;
    out[k] = v;
  }
  out['Content-Security-Policy'] = [csp];
  out['X-Content-Type-Options'] = ['nosniff'];
  return out;
}

export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? null : u.origin;
  } catch {
    return null;
  }
}

/** A link the user may open in the system browser: http(s), no credentials, reasonably short. */
export function isSafeExternalUrl(url: string): boolean {
  if (typeof url !== 'string' || url.length > 2048) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
  if (u.username || u.password) return false;
  return u.hostname.length > 0;
}

export interface HardeningOptions {
  /** The backend's http origin right now, or null while it is not running. */
  backendOrigin: () => string | null;
  /** Opens a link in the system browser (shell.openExternal). */
  openExternal: (url: string) => Promise<void> | void;
  log?: (message: string, data?: Record<string, unknown>) => void;
}

/**
 * Navigation stays on the backend's origin: anything else is prevented, and an http(s) link is handed to
 * the system browser instead. Every window.open is denied the same way. <webview> cannot be attached.
 */
export function hardenWebContents(contents: WebContentsLike, options: HardeningOptions): void {
  const allowed = (url: string): boolean => {
    const origin = originOf(url);
    const backend = options.backendOrigin();
    return origin !== null && backend !== null && origin === backend;
  };
  const toBrowser = (url: string): void => {
    if (isSafeExternalUrl(url)) {
      void Promise.resolve(options.openExternal(url)).catch((err: unknown) => options.log?.('openExternal failed', { url, err: String(err) }));
    } else {
      options.log?.('blocked a link', { url: url.slice(0, 200) });
    }
  };
  const guard = (event: EventLike, url: string): void => {
    if (allowed(url)) return;
    event.preventDefault();
    options.log?.('blocked navigation', { url: url.slice(0, 200) });
    toBrowser(url);
  };
  const urlOf = (event: unknown, url: unknown): string =>
    typeof url === 'string' ? url : String((event as { url?: unknown }).url ?? '');
  contents.on('will-navigate', (event: EventLike, url?: string) => guard(event, urlOf(event, url)));
  contents.on('will-redirect', (event: EventLike, url?: string) => {
    const target = urlOf(event, url);
    if (allowed(target)) return;
    event.preventDefault();
    options.log?.('blocked redirect', { url: target.slice(0, 200) });
  });
  contents.on('will-attach-webview', (event: EventLike) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    toBrowser(url);
    return { action: 'deny' };
  });
}

/** The CSP on every response of the session, and no permission for anything (checks and requests). */
export function hardenSession(session: SessionLike, csp: () => string, log?: (message: string, data?: Record<string, unknown>) => void): void {
  session.webRequest.onHeadersReceived((details: HeadersReceivedDetails, callback: (r: HeadersReceivedResponse) => void) => {
    callback({ responseHeaders: withCspHeader(details.responseHeaders, csp()) });
  });
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log?.('denied a permission request', { permission });
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
}

// ---- static screens --------------------------------------------------------------------------------------

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const SCREEN_STYLE = `
:root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0; padding: 40px; line-height: 1.5; background: Canvas; color: CanvasText; }
main { max-width: 720px; margin: 0 auto; }
h1 { font-size: 1.4rem; margin: 0 0 12px; }
pre { white-space: pre-wrap; word-break: break-word; max-height: 40vh; overflow: auto; padding: 12px;
      border: 1px solid GrayText; border-radius: 6px; font-size: 12px; }
.muted { color: GrayText; }
.spinner { width: 28px; height: 28px; border: 3px solid GrayText; border-top-color: transparent; border-radius: 50%;
           animation: spin 1s linear infinite; margin: 24px 0; }
@keyframes spin { to { transform: rotate(360deg); } }
`;

/** The CSP of the static screens: nothing but the one inline stylesheet (allowed by its hash). */
export function screenCsp(): string {
  const hash = createHash('sha256').update(SCREEN_STYLE).digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`;
}

function screen(title: string, inner: string): string {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${screenCsp()}">
<title>${escapeHtml(title)}</title><style>${SCREEN_STYLE}</style></head>
<body><main>${inner}</main></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}

export function startingScreenUrl(message = 'Starting the assistant…'): string {
  return screen('Westfall Assistant', `<h1>Westfall Assistant</h1><div class="spinner" role="progressbar" aria-label="Starting"></div><p>${escapeHtml(message)}</p>`);
}

export interface ErrorScreenInfo {
  message: string;
  outputTail?: string;
  logsDir?: string;
}

/** The screen shown when the backend cannot be started. No script: the tray menu offers Retry and Quit. */
export function errorScreenUrl(info: ErrorScreenInfo): string {
  const parts = [
    `<h1>The assistant's engine could not start</h1>`,
    `<p role="alert">${escapeHtml(info.message)}</p>`,
    `<p>Use <strong>Retry starting the engine</strong> or <strong>Quit</strong> in the tray menu. If it keeps failing, restart your computer or reinstall the app.</p>`,
  ];
  if (info.logsDir) parts.push(`<p class="muted">Logs: ${escapeHtml(info.logsDir)}</p>`);
  if (info.outputTail && info.outputTail.trim()) parts.push(`<p>Last output of the engine:</p><pre>${escapeHtml(info.outputTail.trim())}</pre>`);
  return screen('Westfall Assistant: error', parts.join('\n'));
}

/** Whether a URL is one of our static screens (loaded by the main process, never navigated to). */
export function isScreenUrl(url: string): boolean {
  return url.startsWith('data:text/html;charset=utf-8,');
}

// ---- the main window --------------------------------------------------------------------------------------

export interface MainWindowOptions {
  preloadPath: string;
  appVersion: string;
  iconPath?: string;
  show?: boolean;
}

export function mainWindowOptions(o: MainWindowOptions): BrowserWindowOptions {
  return {
    width: 1200,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    show: o.show ?? true,
    title: 'Westfall Assistant',
    backgroundColor: '#1e1e1e',
    autoHideMenuBar: true,
    ...(o.iconPath ? { icon: o.iconPath } : {}),
    webPreferences: secureWebPreferences(o.preloadPath, o.appVersion),
  };
}

export function createMainWindow(electron: Pick<ElectronLike, 'BrowserWindow'>, o: MainWindowOptions): BrowserWindowLike {
  return new electron.BrowserWindow(mainWindowOptions(o));
}

/** Brings a window to the front (restoring it from the taskbar or tray). */
export function reveal(win: BrowserWindowLike): void {
  if (win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  if (!win.isVisible()) win.show();
  win.focus();
}
