// The renderer's one piece of global state: the session (backend address and API client), the current
// view, the theme, the loaded model's status, chat settings and notices. Components read it through
// StoreController (which re-renders them on change) and change it only through the functions below.
// Everything else is local to a component (properties in, events out).
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiClient, ApiError } from './api/client.js';
import type { ModelStatus } from './api/types.js';

export const ROUTES = [
  { name: 'chat', label: 'Chat' },
  { name: 'models', label: 'Models' },
  { name: 'finance', label: 'Finance' },
  { name: 'time', label: 'Time' },
  { name: 'vault', label: 'Vault' },
  { name: 'music', label: 'Music' },
  { name: 'settings', label: 'Settings' },
  { name: 'documents', label: 'Documents' },
] as const;
export type RouteName = (typeof ROUTES)[number]['name'];

export type ThemeChoice = 'system' | 'light' | 'dark';

export interface ChatSettings {
  systemPrompt: string;
  temperature: number;
  maxTokens: number;
  /** Let the assistant use the personal tools (when the backend has them). */
  useTools: boolean;
}

/** Thinking for one chat (models that think): on or off, and a budget in tokens (null: no limit). */
export interface ThinkingSetting {
  enabled: boolean;
  budget: number | null;
}

export interface Notice {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  /** A button on the notice (Undo). */
  action?: { label: string; run: () => void };
}

export interface State {
  /** Null until bootstrap has a session (the login screen shows). */
  api: ApiClient | null;
  /** Why the last sign-in failed, for the login screen. */
  authError: string | null;
  route: RouteName;
  theme: ThemeChoice;
  model: ModelStatus | null;
  /** False while the backend cannot be reached. */
  online: boolean;
  chat: ChatSettings;
  /** Per conversation id ('' for a chat not saved yet); chats without an entry use DEFAULT_THINKING. */
  thinking: Record<string, ThinkingSetting>;
  notices: Notice[];
  /** Running inside the desktop app (the preload supplied the session). */
  desktop: boolean;
}

const THEME_KEY = 'westfall.theme';
const CHAT_KEY = 'westfall.chat';
const THINKING_KEY = 'westfall.thinking';
/** Settings of this many chats are kept; the least recently changed go first. */
const THINKING_KEEP = 500;

export const DEFAULT_CHAT_SETTINGS: ChatSettings = { systemPrompt: 'You are Westfall, a helpful private assistant.', temperature: 0.7, maxTokens: 512, useTools: true };

function readLocal<T>(key: string, fallback: T): T {
  try {
    const raw = globalThis.localStorage?.getItem(key);
    return raw ? ({ ...fallback, ...(JSON.parse(raw) as object) } as T) : fallback;
  } catch {
    return fallback;
  }
}

export const DEFAULT_THINKING: ThinkingSetting = { enabled: true, budget: null };

function validThinking(v: unknown): v is ThinkingSetting {
  const t = v as ThinkingSetting;
  return !!t && typeof t === 'object' && typeof t.enabled === 'boolean' && (t.budget === null || (Number.isInteger(t.budget) && t.budget >= 0));
}

function initialThinking(): Record<string, ThinkingSetting> {
  const raw = readLocal<Record<string, unknown>>(THINKING_KEY, {});
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => validThinking(v))) as Record<string, ThinkingSetting>;
}

function initialTheme(): ThemeChoice {
  try {
    const t = globalThis.localStorage?.getItem(THEME_KEY);
    return t === 'light' || t === 'dark' ? t : 'system';
  } catch {
    return 'system';
  }
}

function routeFromHash(hash: string): RouteName | null {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return ROUTES.some((r) => r.name === name) ? (name as RouteName) : null;
}

let state: State = {
  api: null,
  authError: null,
  route: routeFromHash(globalThis.location?.hash ?? '') ?? 'chat',
  theme: initialTheme(),
  model: null,
  online: true,
  chat: readLocal(CHAT_KEY, DEFAULT_CHAT_SETTINGS),
  thinking: initialThinking(),
  notices: [],
  desktop: false,
};

const listeners = new Set<() => void>();

export function getState(): Readonly<State> {
  return state;
}

export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function set(patch: Partial<State>): void {
  state = { ...state, ...patch };
  for (const fn of [...listeners]) fn();
}

/** The API client; views are only shown once a session exists. */
export function api(): ApiClient {
  if (!state.api) throw new Error('not signed in');
  return state.api;
}

export function startSession(baseUrl: string, token: string | null, opts: { desktop?: boolean } = {}): void {
  state.api?.close();
  set({ api: new ApiClient(baseUrl, token), authError: null, desktop: opts.desktop ?? false });
  startModelPolling();
}

export function endSession(reason: string | null = null): void {
  state.api?.close();
  stopModelPolling();
  set({ api: null, authError: reason, model: null });
}

export function navigate(route: RouteName): void {
  if (route === state.route) return;
  set({ route });
  const hash = `#/${route}`;
  if (globalThis.location && globalThis.location.hash !== hash) globalThis.history?.replaceState(null, '', hash);
}

/** Follows the address bar (back/forward, edited hash). */
export function syncRouteFromLocation(): void {
  const r = routeFromHash(globalThis.location?.hash ?? '');
  if (r && r !== state.route) set({ route: r });
}

export function applyTheme(choice: ThemeChoice = state.theme): void {
  const root = globalThis.document?.documentElement;
  if (!root) return;
  const dark = choice === 'dark' || (choice === 'system' && globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches === true);
  if (choice === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', choice);
  root.dataset.effectiveTheme = dark ? 'dark' : 'light';
}

export function setTheme(theme: ThemeChoice): void {
  try {
    if (theme === 'system') globalThis.localStorage?.removeItem(THEME_KEY);
    else globalThis.localStorage?.setItem(THEME_KEY, theme);
  } catch {
    /* storage unavailable */
  }
  set({ theme });
  applyTheme(theme);
}

/** The theme actually shown (system resolved). */
export function effectiveTheme(): 'light' | 'dark' {
  return globalThis.document?.documentElement.dataset.effectiveTheme === 'dark' ? 'dark' : 'light';
}

export function setChatSettings(patch: Partial<ChatSettings>): void {
  const chat = { ...state.chat, ...patch };
  try {
    globalThis.localStorage?.setItem(CHAT_KEY, JSON.stringify(chat));
  } catch {
    /* storage unavailable */
  }
  set({ chat });
}

export function thinkingFor(conversationId: string | null): ThinkingSetting {
  return state.thinking[conversationId ?? ''] ?? DEFAULT_THINKING;
}

function saveThinking(thinking: Record<string, ThinkingSetting>): void {
  const keys = Object.keys(thinking);
  for (const k of keys.slice(0, Math.max(0, keys.length - THINKING_KEEP))) delete thinking[k];
  try {
    globalThis.localStorage?.setItem(THINKING_KEY, JSON.stringify(thinking));
  } catch {
    /* storage unavailable */
  }
  set({ thinking });
}

export function setThinking(conversationId: string | null, patch: Partial<ThinkingSetting>): void {
  const key = conversationId ?? '';
  const next = { ...thinkingFor(conversationId), ...patch };
  const thinking = { ...state.thinking };
  delete thinking[key]; // re-inserted last: the most recently changed
  thinking[key] = next;
  saveThinking(thinking);
}

/** A chat was saved under a new id (its first save, or saved anew by a regenerate): its setting follows. */
export function moveThinking(from: string | null, to: string | null): void {
  const key = from ?? '';
  if (from === to || !(key in state.thinking)) return;
  const thinking = { ...state.thinking };
  const setting = thinking[key]!;
  delete thinking[key];
  if (to !== null) thinking[to] = setting;
  saveThinking(thinking);
}

export function forgetThinking(conversationId: string | null): void {
  const key = conversationId ?? '';
  if (!(key in state.thinking)) return;
  const thinking = { ...state.thinking };
  delete thinking[key];
  saveThinking(thinking);
}

let noticeSeq = 0;
export function notify(kind: Notice['kind'], text: string, timeoutMs = kind === 'error' ? 8000 : 3000): void {
  pushNotice({ id: ++noticeSeq, kind, text }, timeoutMs);
}

/** A notice with a button (Undo); its id, for dismissNotice. */
export function notifyWithAction(kind: Notice['kind'], text: string, timeoutMs: number, action: NonNullable<Notice['action']>): number {
  return pushNotice({ id: ++noticeSeq, kind, text, action }, timeoutMs);
}

function pushNotice(notice: Notice, timeoutMs: number): number {
  const notices = [...state.notices, notice];
  // At most three: the oldest goes, but one with an action (an Undo still open) only when all have one.
  while (notices.length > 3) {
    const plain = notices.findIndex((n) => !n.action);
    notices.splice(plain >= 0 ? plain : 0, 1);
  }
  set({ notices });
  if (timeoutMs > 0) setTimeout(() => dismissNotice(notice.id), timeoutMs);
  return notice.id;
}

export function dismissNotice(id: number): void {
  if (state.notices.some((n) => n.id === id)) set({ notices: state.notices.filter((n) => n.id !== id) });
}

/** Reports an error from an API call as a notice (and signs out when the token is refused). */
export function reportError(err: unknown, what?: string): void {
  if (err instanceof ApiError && err.status === 401) {
    endSession(state.desktop ? 'The assistant service refused the desktop app. Restart the app.' : 'You are signed out (the session ended or was signed out everywhere).');
    return;
  }
  if ((err as Error)?.name === 'AbortError') return;
  const message = err instanceof Error ? err.message : String(err);
  notify('error', what ? `${what}: ${message}` : message);
}

// ---------------------------------------------------------------------------------------------------
// The loaded model's status, polled (faster while loading).

let pollTimer: ReturnType<typeof setTimeout> | null = null;

export async function refreshModelStatus(): Promise<void> {
  const client = state.api;
  if (!client) return;
  try {
    const sys = await client.get<{ model: ModelStatus }>('/api/system');
    if (state.api === client) set({ model: sys.model, online: true });
  } catch (err) {
    if (state.api !== client) return;
    if (err instanceof ApiError && err.status === 401) return reportError(err);
    if (err instanceof ApiError && err.code === 'offline') set({ online: false });
  }
}

function startModelPolling(): void {
  stopModelPolling();
  const tick = async () => {
    await refreshModelStatus();
    if (!state.api) return;
    pollTimer = setTimeout(tick, state.model?.state === 'loading' ? 500 : 5000);
  };
  void tick();
}

function stopModelPolling(): void {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

/** Re-renders a Lit component whenever the store changes. */
export class StoreController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  #unsubscribe: (() => void) | null = null;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  get state(): Readonly<State> {
    return state;
  }

  hostConnected(): void {
    this.#unsubscribe = subscribe(() => this.#host.requestUpdate());
  }

  hostDisconnected(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }
}
