// Which model each chat talks to (null: the default model), kept in localStorage by conversation id like
// the thinking setting: a new chat's choice sits under '' until its first save moves it to the new id.
const KEY = 'westfall.chatModels';
/** Chats whose choice is remembered (the most recently changed). */
const KEEP = 500;

let models: Record<string, string> = load();
const listeners = new Set<() => void>();

function load(): Record<string, string> {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    const parsed = raw ? (JSON.parse(raw) as unknown) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
    }
  } catch {
    /* unreadable: start empty */
  }
  return {};
}

function save(next: Record<string, string>): void {
  const keys = Object.keys(next);
  for (const k of keys.slice(0, Math.max(0, keys.length - KEEP))) delete next[k];
  models = next;
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(next));
  } catch {
    /* storage unavailable: kept for this session */
  }
  for (const fn of listeners) fn();
}

/** The model a chat uses, or null for the default model. */
export function modelFor(conversationId: string | null): string | null {
  return models[conversationId ?? ''] ?? null;
}

export function setModelFor(conversationId: string | null, model: string | null): void {
  const key = conversationId ?? '';
  const next = { ...models };
  delete next[key];
  if (model !== null) next[key] = model;
  save(next);
}

/** A chat was saved under a new id: its choice follows. */
export function moveModel(from: string | null, to: string | null): void {
  const key = from ?? '';
  if (from === to || !(key in models)) return;
  const next = { ...models };
  const m = next[key]!;
  delete next[key];
  if (to !== null) next[to] = m;
  save(next);
}

export function forgetModel(conversationId: string | null): void {
  if (!((conversationId ?? '') in models)) return;
  const next = { ...models };
  delete next[conversationId ?? ''];
  save(next);
}

export function onModelsChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
