// Where conversations are kept: the backend's conversations routes (/api/conversations) when it has them,
// else this window's memory. `detect()` tells which (true: saved on the backend). Saved conversations are
// trees (an edited question or a regenerated reply is saved next to the one it replaces); the items shown
// are the branch the backend has selected, each message with its saved id and its siblings' ids. In this
// window's memory there are no branches: an edit or a regenerate replaces.
import { ApiError, type ApiClient } from '../api/client.js';
import { newId } from '../api/chat-socket.js';
import type { NewStoredMessage, StoredMessageView } from '../api/types.js';
import { savedThinking, type ChatItem, type MessageItem } from './chat-items.js';
import type { ChatSettings } from './chat-settings.js';
import type { ToolCallStatus } from './tool-call-card.js';

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
  snippet?: string;
}

interface RemoteConversation {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  messageCount?: number;
  settings?: ChatSettings | null;
}

/** A saved message on the branch shown: its parent and its siblings (itself included). */
type RemoteMessage = StoredMessageView & { parentId?: number | null; siblings?: number[] };

interface RemoteWithMessages extends RemoteConversation {
  messages: RemoteMessage[];
}

export interface OpenedConversation {
  id: string;
  title: string;
  items: ChatItem[];
  settings: ChatSettings | null;
}

/** How a generated reply was made, saved with it. */
export interface ReplyMeta {
  model?: string;
  params?: Record<string, number | string | boolean | null>;
  promptTokens?: number;
  completionTokens?: number;
  droppedMessages?: number;
}

export type SaveMessage = Pick<NewStoredMessage, 'reasoning' | 'thinkingMs'> & { role: 'user' | 'assistant'; content: string; meta?: ReplyMeta };

/** The saved ids of a message item. */
function savedIds(m: RemoteMessage): Pick<MessageItem, 'id' | 'parentId' | 'siblings'> {
  return { id: m.id, parentId: m.parentId ?? null, siblings: m.siblings ?? [m.id] };
}

/** The items of a saved branch: messages and tool calls in order, tool results on their calls. */
function itemsOf(messages: RemoteMessage[]): ChatItem[] {
  const items: ChatItem[] = [];
  const toolResults = new Map<string, string>();
  for (const m of messages) if (m.role === 'tool' && m.toolCallId) toolResults.set(m.toolCallId, m.content);
  for (const m of messages) {
    if (m.role !== 'user' && m.role !== 'assistant') continue;
    const calls = m.toolCalls ?? [];
    const thought = m.role === 'assistant' ? savedThinking(m) : {};
    // A step's thinking and text come before its calls, as they did while it streamed.
    if (m.content || m.role === 'user' || thought.reasoning) items.push({ kind: 'message', key: newId('m'), role: m.role, content: m.content, ...thought, ...savedIds(m) });
    for (const call of calls) {
      const result = toolResults.get(call.id);
      items.push({ kind: 'tool', key: newId('t'), call: { id: call.id, name: call.name, arguments: call.arguments, status: savedStatus(result), ...(result !== undefined ? { result } : {}) } });
    }
  }
  return items;
}

/**
 * Gives the items shown the saved ids and siblings of a branch just read, where both list the same
 * messages in the same order (a turn saved by the agent, a regenerate's new sibling); nothing else changes.
 */
export function attachIds(items: ChatItem[], saved: ChatItem[]): boolean {
  const mine = items.filter((i): i is MessageItem => i.kind === 'message' && !i.streaming);
  const theirs = saved.filter((i): i is MessageItem => i.kind === 'message');
  if (mine.length !== theirs.length || mine.some((m, i) => m.role !== theirs[i]!.role)) return false;
  mine.forEach((m, i) => Object.assign(m, { id: theirs[i]!.id, parentId: theirs[i]!.parentId, siblings: theirs[i]!.siblings }));
  return true;
}

interface LocalConversation {
  id: string;
  title: string;
  updatedAt: string;
  items: ChatItem[];
  settings: ChatSettings | null;
}

function opened(c: RemoteWithMessages): OpenedConversation {
  return { id: c.id, title: c.title, items: itemsOf(c.messages), settings: c.settings ?? null };
}

/** The status of a saved tool call from its saved result (JSON text; absent: the run stopped before it). */
function savedStatus(result: string | undefined): ToolCallStatus {
  if (result === undefined) return 'error';
  try {
    const r = JSON.parse(result) as { error?: { code?: string } };
    if (r && typeof r === 'object' && r.error) return r.error.code === 'declined' ? 'denied' : 'error';
  } catch {
    /* plain text result */
  }
  return 'done';
}

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New chat';
}

export class ConversationSource {
  readonly #api: ApiClient;
  #remote = false;
  readonly #local = new Map<string, LocalConversation>();

  constructor(api: ApiClient) {
    this.#api = api;
  }

  get persistent(): boolean {
    return this.#remote;
  }

  async detect(): Promise<boolean> {
    try {
      await this.#api.get('/api/conversations', { query: { limit: 1 } });
      this.#remote = true;
    } catch (err) {
      this.#remote = false;
      if (!(err instanceof ApiError) || !err.isMissingRoute) console.warn('conversations unavailable', err);
    }
    return this.#remote;
  }

  async list(): Promise<ConversationSummary[]> {
    if (!this.#remote) return [...this.#local.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).map(({ id, title, updatedAt }) => ({ id, title, updatedAt }));
    const r = await this.#api.get<{ conversations: RemoteConversation[] }>('/api/conversations', { query: { limit: 100 } });
    return r.conversations.map((c) => ({ id: c.id, title: c.title, updatedAt: c.updatedAt }));
  }

  async search(query: string): Promise<ConversationSummary[]> {
    const q = query.trim().toLowerCase();
    if (!q) return this.list();
    if (!this.#remote) {
      return [...this.#local.values()]
        .filter((c) => c.title.toLowerCase().includes(q) || c.items.some((i) => i.kind === 'message' && i.content.toLowerCase().includes(q)))
        .map(({ id, title, updatedAt }) => ({ id, title, updatedAt }));
    }
    const r = await this.#api.get<{ results?: SearchHitLike[] }>('/api/conversations', { query: { q: query, limit: 50 } });
    return (r.results ?? []).map((h) => ({
      id: h.conversation.id,
      title: h.conversation.title,
      updatedAt: h.conversation.updatedAt,
      ...(h.snippets?.[0] ? { snippet: h.snippets[0].replace(/[[\]]/g, '') } : {}),
    }));
  }

  async open(id: string): Promise<OpenedConversation> {
    if (!this.#remote) {
      const c = this.#local.get(id);
      return { id, title: c?.title ?? '', items: [...(c?.items ?? [])], settings: c?.settings ?? null };
    }
    return opened(await this.#api.get<RemoteWithMessages>(`/api/conversations/${encodeURIComponent(id)}`));
  }

  /** Shows the branch through `messageId` (down to its newest message unless `follow` is false). */
  async selectBranch(id: string, messageId: number | null, follow = true): Promise<OpenedConversation> {
    return opened(await this.#api.put<RemoteWithMessages>(`/api/conversations/${encodeURIComponent(id)}/branch`, { messageId, follow }));
  }

  async saveSettings(id: string, settings: ChatSettings | null): Promise<void> {
    if (!this.#remote) {
      const c = this.#local.get(id);
      if (c) c.settings = settings;
      return;
    }
    await this.#api.put(`/api/conversations/${encodeURIComponent(id)}/settings`, { settings });
  }

  async rename(id: string, title: string): Promise<void> {
    if (!this.#remote) {
      const c = this.#local.get(id);
      if (c) c.title = title;
      return;
    }
    await this.#api.patch(`/api/conversations/${encodeURIComponent(id)}`, { title });
  }

  /** A JSON export (text) becomes a new saved conversation; the backend refuses a bad file whole. */
  async importJson(text: string): Promise<OpenedConversation> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('the file is not JSON (choose a chat exported as JSON)');
    }
    return opened(await this.#api.post<RemoteWithMessages>('/api/conversations/import', body));
  }

  /** The export file (JSON with every branch, or Markdown of the branch shown): name and content. */
  async exportFile(id: string, format: 'json' | 'markdown'): Promise<{ name: string; type: string; text: string }> {
    const headers: Record<string, string> = this.#api.authorization ? { authorization: this.#api.authorization } : {};
    const res = await fetch(this.#api.url(`/api/conversations/${encodeURIComponent(id)}/export`, { format }), { headers, cache: 'no-store' });
    if (!res.ok) throw new Error(`the export failed (HTTP ${res.status})`);
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? (format === 'json' ? 'chat.json' : 'chat.md');
    return { name, type: format === 'json' ? 'application/json' : 'text/markdown', text: await res.text() };
  }

  /** A new, empty saved conversation (remote only) with the chat's settings; its id. */
  async create(title: string, settings: ChatSettings | null = null): Promise<string> {
    const created = await this.#api.post<RemoteConversation>('/api/conversations', { title });
    if (settings) await this.saveSettings(created.id, settings);
    return created.id;
  }

  /**
   * Saves one message (creating the conversation, with the chat's settings, on the first) under `parentId`
   * (absent: after the branch shown; null: a new first message). Returns the conversation's id and the
   * message's saved ids (none in this window's memory).
   */
  async append(
    id: string | null,
    message: SaveMessage,
    items: ChatItem[],
    options: { parentId?: number | null; settings?: ChatSettings | null } = {},
  ): Promise<{ conversationId: string; saved: Pick<MessageItem, 'id' | 'parentId'> | null }> {
    const now = new Date().toISOString();
    if (!this.#remote) {
      const cid = id ?? newId('c');
      const c = this.#local.get(cid) ?? { id: cid, title: titleFrom(message.content), updatedAt: now, items: [], settings: options.settings ?? null };
      c.items = items.filter((i) => !(i.kind === 'message' && i.streaming)).map((i) => ({ ...i }) as ChatItem);
      c.updatedAt = now;
      this.#local.set(cid, c);
      return { conversationId: cid, saved: null };
    }
    if (!id) {
      const created = await this.#api.post<RemoteWithMessages>('/api/conversations', { title: titleFrom(message.content), messages: [message] });
      if (options.settings) await this.saveSettings(created.id, options.settings);
      const m = created.messages[0]!;
      return { conversationId: created.id, saved: { id: m.id, parentId: m.parentId ?? null } };
    }
    const r = await this.#api.post<{ messages: RemoteMessage[] }>(`/api/conversations/${encodeURIComponent(id)}/messages`, {
      messages: [message],
      ...(options.parentId !== undefined ? { parentId: options.parentId } : {}),
    });
    const m = r.messages[0]!;
    return { conversationId: id, saved: { id: m.id, parentId: m.parentId ?? null } };
  }

  /** The branch shown, as items (to give the items on screen their saved ids after a turn). */
  async savedItems(id: string): Promise<ChatItem[] | null> {
    if (!this.#remote) return null;
    return (await this.open(id)).items;
  }

  async remove(id: string): Promise<void> {
    if (!this.#remote) {
      this.#local.delete(id);
      return;
    }
    await this.#api.delete(`/api/conversations/${encodeURIComponent(id)}`);
  }
}

interface SearchHitLike {
  conversation: RemoteConversation;
  snippets?: string[];
}
