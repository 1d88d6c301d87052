// Where conversations are kept: the backend's conversations routes (/api/conversations) when it has them,
// else this window's memory. `detect()` tells which (true: saved on the backend).
import { ApiError, type ApiClient } from '../api/client.js';
import { newId } from '../api/chat-socket.js';
import type { NewStoredMessage, StoredMessageView } from '../api/types.js';
import { savedThinking, type ChatItem } from './chat-items.js';
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
}

type RemoteMessage = StoredMessageView;

/** A saved message as it is saved again (a regenerate saves the conversation anew), thinking included. */
function resave({ role, content, reasoning, thinkingMs, toolCalls, toolCallId, name }: RemoteMessage): NewStoredMessage {
  return {
    role,
    content,
    ...(reasoning ? { reasoning } : {}),
    ...(thinkingMs !== undefined ? { thinkingMs } : {}),
    ...(toolCalls ? { toolCalls } : {}),
    ...(toolCallId ? { toolCallId } : {}),
    ...(name ? { name } : {}),
  };
}

interface LocalConversation {
  id: string;
  title: string;
  updatedAt: string;
  items: ChatItem[];
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

  async open(id: string): Promise<ChatItem[]> {
    if (!this.#remote) return [...(this.#local.get(id)?.items ?? [])];
    const c = await this.#api.get<{ messages: RemoteMessage[] } & RemoteConversation>(`/api/conversations/${encodeURIComponent(id)}`);
    const items: ChatItem[] = [];
    const toolResults = new Map<string, string>();
    for (const m of c.messages) if (m.role === 'tool' && m.toolCallId) toolResults.set(m.toolCallId, m.content);
    for (const m of c.messages) {
      if (m.role !== 'user' && m.role !== 'assistant') continue;
      const calls = m.toolCalls ?? [];
      const thought = m.role === 'assistant' ? savedThinking(m) : {};
      // A step's thinking and text come before its calls, as they did while it streamed.
      if (m.content || m.role === 'user' || thought.reasoning) items.push({ kind: 'message', key: newId('m'), role: m.role, content: m.content, ...thought });
      for (const call of calls) {
        const result = toolResults.get(call.id);
        items.push({ kind: 'tool', key: newId('t'), call: { id: call.id, name: call.name, arguments: call.arguments, status: savedStatus(result), ...(result !== undefined ? { result } : {}) } });
      }
    }
    return items;
  }

  /** A new, empty saved conversation (remote only); its id. */
  async create(title: string): Promise<string> {
    const created = await this.#api.post<RemoteConversation>('/api/conversations', { title });
    return created.id;
  }

  /**
   * Regenerate with tools: the saved conversation loses its last question and everything after it (the
   * agent saves the question again with the new reply). Saved anew under a new id, which is returned.
   */
  async truncateBeforeLastUser(id: string | null): Promise<string | null> {
    if (!id || !this.#remote) return id;
    const old = await this.#api.get<{ title: string; messages: RemoteMessage[] }>(`/api/conversations/${encodeURIComponent(id)}`);
    const lastUser = old.messages.findLastIndex((m) => m.role === 'user');
    const keep = old.messages.slice(0, Math.max(0, lastUser)).map(resave);
    const created = await this.#api.post<RemoteConversation>('/api/conversations', { title: old.title, messages: keep });
    await this.#api.delete(`/api/conversations/${encodeURIComponent(id)}`);
    return created.id;
  }

  /** Saves one message (creating the conversation on the first); returns the conversation's id. */
  async append(id: string | null, message: { role: 'user' | 'assistant'; content: string; reasoning?: string; thinkingMs?: number }, items: ChatItem[]): Promise<string> {
    const now = new Date().toISOString();
    if (!this.#remote) {
      const cid = id ?? newId('c');
      const c = this.#local.get(cid) ?? { id: cid, title: titleFrom(message.content), updatedAt: now, items: [] };
      c.items = items.filter((i) => !(i.kind === 'message' && i.streaming)).map((i) => ({ ...i }) as ChatItem);
      c.updatedAt = now;
      this.#local.set(cid, c);
      return cid;
    }
    if (!id) {
      const created = await this.#api.post<RemoteConversation>('/api/conversations', { title: titleFrom(message.content), messages: [message] });
      return created.id;
    }
    await this.#api.post(`/api/conversations/${encodeURIComponent(id)}/messages`, { messages: [message] });
    return id;
  }

  /**
   * Regenerate: the saved conversation forgets its last reply. The backend only appends, so a saved
   * conversation is saved again without it (under a new id, returned) and the old one deleted.
   */
  async dropLastReply(id: string | null, items: ChatItem[]): Promise<string | null> {
    if (!id) return null;
    if (!this.#remote) {
      const c = this.#local.get(id);
      if (c) {
        const last = c.items.findLastIndex((i) => i.kind === 'message' && i.role === 'assistant');
        if (last >= 0) c.items = c.items.filter((_, i) => i !== last);
      }
      return id;
    }
    const old = await this.#api.get<{ title: string; messages: RemoteMessage[] }>(`/api/conversations/${encodeURIComponent(id)}`);
    const last = old.messages.findLastIndex((m) => m.role === 'assistant');
    const keep = old.messages.filter((_, i) => i !== last).map(resave);
    void items;
    const created = await this.#api.post<RemoteConversation>('/api/conversations', { title: old.title, messages: keep });
    await this.#api.delete(`/api/conversations/${encodeURIComponent(id)}`);
    return created.id;
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
