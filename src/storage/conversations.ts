// Conversations and their messages. A message keeps the model's tool calls (JSON) and a tool result keeps
// the id of the call it answers, so a saved conversation replays exactly. Search uses the FTS5 index when
// the database has one, LIKE otherwise.
import { randomUUID } from 'node:crypto';
import { notFound, WestfallError as ToolError } from '../errors.js';
import type { DB } from './database.js';
import { tableExists } from './features.js';

export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';

export interface StoredToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

export interface NewMessage {
  role: MessageRole;
  content: string;
  /** For role 'assistant': its thinking, apart from the answer. */
  reasoning?: string;
  /** For role 'assistant': how long it thought (ms). */
  thinkingMs?: number;
  toolCalls?: StoredToolCall[];
  /** For role 'tool': the call this result answers. */
  toolCallId?: string;
  /** For role 'tool': the tool's name. */
  name?: string;
}

export interface StoredMessage extends NewMessage {
  id: number;
  seq: number;
  createdAt: string;
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
}

export interface ConversationWithMessages extends Conversation {
  messages: StoredMessage[];
}

export interface SearchHit {
  conversation: Conversation;
  /** Matching text with the matches in [brackets]. */
  snippets: string[];
}

interface ConversationRow {
  id: string;
  title: string;
  created_at: number;
  updated_at: number;
  message_count: number;
}

interface MessageRow {
  id: number;
  seq: number;
  role: MessageRole;
  content: string;
  tool_calls: string | null;
  tool_call_id: string | null;
  name: string | null;
  reasoning: string | null;
  thinking_ms: number | null;
  created_at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function toConversation(r: ConversationRow): Conversation {
  return { id: r.id, title: r.title, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at), messageCount: r.message_count };
}

function toMessage(r: MessageRow): StoredMessage {
  const m: StoredMessage = { id: r.id, seq: r.seq, role: r.role, content: r.content, createdAt: iso(r.created_at) };
  if (r.tool_calls !== null) m.toolCalls = JSON.parse(r.tool_calls) as StoredToolCall[];
  if (r.tool_call_id !== null) m.toolCallId = r.tool_call_id;
  if (r.name !== null) m.name = r.name;
  if (r.reasoning !== null) m.reasoning = r.reasoning;
  if (r.thinking_ms !== null) m.thinkingMs = r.thinking_ms;
  return m;
}

const SELECT_CONVERSATION = `
  SELECT c.id, c.title, c.created_at, c.updated_at,
         (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count
  FROM conversations c`;

/** FTS5 query from free text: every word must occur (as a prefix), quoted so no operator can be injected. */
export function ftsQuery(text: string): string | null {
  const terms = text
    .split(/\s+/)
    .map((t) => t.replace(/["\u0000]/g, ''))
    .filter((t) => /[\p{L}\p{N}]/u.test(t));
  if (terms.length === 0) return null;
  return terms.map((t) => `"${t}"*`).join(' ');
}

function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class ConversationStore {
  readonly #db: DB;
  readonly #now: () => number;
  readonly #fts: boolean;

  constructor(db: DB, options: { now?: () => number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#fts = tableExists(db, 'messages_fts');
  }

  /** Whether search uses the full-text index (else LIKE). */
  get fullTextSearch(): boolean {
    return this.#fts;
  }

  create(options: { title?: string; id?: string } = {}): Conversation {
    const now = this.#now();
    const id = options.id ?? randomUUID();
    try {
      this.#db.prepare('INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)').run(id, options.title ?? '', now, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new ToolError('conflict', `conversation ${id} already exists`);
      throw err;
    }
    return this.get(id);
  }

  find(id: string): Conversation | null {
    const row = this.#db.prepare(`${SELECT_CONVERSATION} WHERE c.id = ?`).get(id) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }

  get(id: string): Conversation {
    const c = this.find(id);
    if (!c) throw notFound('conversation', id);
    return c;
  }

  getWithMessages(id: string): ConversationWithMessages {
    return { ...this.get(id), messages: this.messages(id) };
  }

  list(options: { limit?: number; offset?: number } = {}): { conversations: Conversation[]; total: number } {
    const limit = options.limit ?? 50;
    const offset = options.offset ?? 0;
    const rows = this.#db
      .prepare(`${SELECT_CONVERSATION} ORDER BY c.updated_at DESC, c.id LIMIT ? OFFSET ?`)
      .all(limit, offset) as ConversationRow[];
    const total = (this.#db.prepare('SELECT count(*) AS n FROM conversations').get() as { n: number }).n;
    return { conversations: rows.map(toConversation), total };
  }

  /** Conversations whose title or messages contain every word of `text`, best matches first. */
  search(text: string, options: { limit?: number } = {}): SearchHit[] {
    const limit = options.limit ?? 20;
    const hits = new Map<string, { rank: number; snippets: string[] }>();
    const add = (id: string, rank: number, snippet: string | null) => {
      const h = hits.get(id) ?? { rank, snippets: [] };
      h.rank = Math.min(h.rank, rank);
      if (snippet && h.snippets.length < 3) h.snippets.push(snippet);
      hits.set(id, h);
    };
    const terms = text.split(/\s+/).filter(Boolean);
    if (terms.length === 0) return [];

    if (this.#fts) {
      const q = ftsQuery(text);
      if (q) {
        const rows = this.#db
          .prepare(
            `SELECT m.conversation_id AS cid, bm25(messages_fts) AS rank,
                    snippet(messages_fts, 0, '[', ']', '…', 12) AS snip
             FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
             WHERE messages_fts MATCH ? ORDER BY rank LIMIT 500`,
          )
          .all(q) as { cid: string; rank: number; snip: string }[];
        for (const r of rows) add(r.cid, r.rank, r.snip);
      }
    } else {
      const where = terms.map(() => "m.content LIKE ? ESCAPE '\\'").join(' AND ');
      const rows = this.#db
        .prepare(`SELECT m.conversation_id AS cid, m.content FROM messages m WHERE ${where} ORDER BY m.id DESC LIMIT 500`)
        .all(...terms.map(likePattern)) as { cid: string; content: string }[];
      for (const r of rows) add(r.cid, 0, likeSnippet(r.content, terms[0]!));
    }
    const titleWhere = terms.map(() => "title LIKE ? ESCAPE '\\'").join(' AND ');
    const titled = this.#db.prepare(`SELECT id FROM conversations WHERE ${titleWhere}`).all(...terms.map(likePattern)) as { id: string }[];
    for (const r of titled) add(r.id, -1e9, null); // a title match ranks first

    return [...hits.entries()]
      .sort((a, b) => a[1].rank - b[1].rank)
      .slice(0, limit)
      .map(([id, h]) => ({ conversation: this.get(id), snippets: h.snippets }));
  }

  rename(id: string, title: string): Conversation {
    const r = this.#db.prepare('UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?').run(title, this.#now(), id);
    if (r.changes === 0) throw notFound('conversation', id);
    return this.get(id);
  }

  /** Deletes the conversation and its messages; false when it did not exist. */
  delete(id: string): boolean {
    return this.#db.prepare('DELETE FROM conversations WHERE id = ?').run(id).changes > 0;
  }

  messages(id: string): StoredMessage[] {
    const rows = this.#db
      .prepare('SELECT id, seq, role, content, tool_calls, tool_call_id, name, reasoning, thinking_ms, created_at FROM messages WHERE conversation_id = ? ORDER BY seq')
      .all(id) as MessageRow[];
    return rows.map(toMessage);
  }

  /** Appends messages in one transaction (all or none) and touches the conversation. */
  append(id: string, messages: readonly NewMessage[]): StoredMessage[] {
    const insert = this.#db.prepare(
      `INSERT INTO messages (conversation_id, seq, role, content, tool_calls, tool_call_id, name, reasoning, thinking_ms, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, seq, role, content, tool_calls, tool_call_id, name, reasoning, thinking_ms, created_at`,
    );
    return this.#db.transaction(() => {
      this.get(id);
      const now = this.#now();
      let seq = (this.#db.prepare('SELECT coalesce(max(seq), 0) AS s FROM messages WHERE conversation_id = ?').get(id) as { s: number }).s;
      const out: StoredMessage[] = [];
      for (const m of messages) {
        const row = insert.get(
          id,
          ++seq,
          m.role,
          m.content,
          m.toolCalls && m.toolCalls.length > 0 ? JSON.stringify(m.toolCalls) : null,
          m.toolCallId ?? null,
          m.name ?? null,
          m.reasoning ? m.reasoning : null,
          m.thinkingMs ?? null,
          now,
        ) as MessageRow;
        out.push(toMessage(row));
      }
      this.#db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(now, id);
      return out;
    })();
  }
}

function likeSnippet(content: string, term: string): string {
  const i = content.toLowerCase().indexOf(term.toLowerCase());
  if (i < 0) return content.slice(0, 80);
  const start = Math.max(0, i - 30);
  const end = Math.min(content.length, i + term.length + 30);
  return `${start > 0 ? '…' : ''}${content.slice(start, i)}[${content.slice(i, i + term.length)}]${content.slice(i + term.length, end)}${end < content.length ? '…' : ''}`;
}
