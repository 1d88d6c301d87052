// The chats the view holds in memory: the one shown, and every one with a reply in flight. A reply belongs
// to its chat, not to the view: it keeps streaming (and is saved into its own conversation when it ends)
// while the user starts a new chat or reads another, and the chat shows it still streaming when the user
// comes back to it.
import type { StreamHandle } from '../api/chat-socket.js';
import type { ChatMessage } from '../api/types.js';
import type { ChatItem } from './chat-items.js';
import type { ChatSettings } from './chat-settings.js';

export class LiveChat {
  /** The saved conversation's id; null until the first message is saved (or where nothing is saved). */
  id: string | null;
  items: ChatItem[];
  /** A turn is in flight (from the question's save to the reply's). */
  busy = false;
  /** The reply in flight, for Stop. */
  handle: StreamHandle | null = null;
  /** Deleted while its reply was in flight: the reply is not saved. */
  deleted = false;
  /** The chat's own settings (null: the app's); saved with the conversation. */
  settings: ChatSettings | null;

  constructor(id: string | null = null, items: ChatItem[] = [], settings: ChatSettings | null = null) {
    this.id = id;
    this.items = items;
    this.settings = settings;
  }

  /** The transcript as protocol messages (system prompt first; failed or empty replies left out). */
  history(systemPrompt: string): ChatMessage[] {
    const sys = systemPrompt.trim();
    const msgs: ChatMessage[] = sys ? [{ role: 'system', content: sys }] : [];
    for (const it of this.items) {
      if (it.kind !== 'message') continue;
      // Thinking is not sent back: templates drop earlier turns' thinking anyway.
      if (it.role === 'assistant' && (it.error || !it.content)) continue;
      msgs.push({ role: it.role, content: it.content });
    }
    return msgs;
  }
}

/** The chats with a turn in flight. */
export class RunningChats {
  readonly #chats = new Set<LiveChat>();

  add(chat: LiveChat): void {
    this.#chats.add(chat);
  }

  delete(chat: LiveChat): void {
    this.#chats.delete(chat);
  }

  byId(id: string): LiveChat | undefined {
    for (const c of this.#chats) if (c.id === id) return c;
    return undefined;
  }

  /** The saved conversations that have a reply in flight. */
  ids(): string[] {
    return [...this.#chats].flatMap((c) => (c.id ? [c.id] : []));
  }

  cancelAll(): void {
    for (const c of this.#chats) c.handle?.cancel();
  }
}
