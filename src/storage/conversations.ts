// Conversations and their messages. A message keeps the model's tool calls (JSON) and a tool result keeps
// the id of the call it answers, so a saved conversation replays exactly. Search uses the FTS5 index when
// the database has one, LIKE otherwise.
//
// A conversation is a tree: every message has a parent (null for a first message), an edited question or a
// regenerated reply becomes a sibling of the one it replaces, and `leafId` marks the path shown and sent
// to the model (root → leaf). `messages()` is that path; `allMessages()` the whole tree.
import { randomUUID } from 'node:crypto';
import { notFound, WestfallError as ToolError } from '../errors.js';
import type { ChatSettings } from './chat-presets.js';
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
  /** For role 'assistant': how it was generated (model, sampling), as the client reported it. */
  meta?: MessageMeta;
}

/** What an assistant message was generated with. */
export interface MessageMeta {
  model?: string;
  params?: Record<string, number | string | boolean | null>;
  promptTokens?: number;
  completionTokens?: number;
  droppedMessages?: number;
}

export interface StoredMessage extends NewMessage {
  id: number;
  seq: number;
  /** The message this one follows (null: a first message). */
  parentId: number | null;
  createdAt: string;
}

/** A message on the shown path, with its alternatives (the ids of its siblings, itself included, oldest first). */
export interface PathMessage extends StoredMessage {
  siblings: number[];
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  /** Every message of the tree. */
  messageCount: number;
  /** The last message of the path shown (null: an empty path). */
  leafId: number | null;
  /** The chat's own settings (null: the app's defaults). */
  settings: ChatSettings | null;
}

export interface ConversationWithMessages extends Conversation {
  /** The path shown, root first, each with its siblings. */
  messages: PathMessage[];
}

/** A whole conversation as exported (and imported): every branch, parents by id. */
export interface ConversationTree {
  title: string;
  createdAt: string;
  updatedAt: string;
  settings: ChatSettings | null;
  leafId: number | null;
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
  leaf_id: number | null;
  settings: string | null;
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
  parent_id: number | null;
  meta: string | null;
  created_at: number;
}

const MESSAGE_COLUMNS = 'id, seq, role, content, tool_calls, tool_call_id, name, reasoning, thinking_ms, parent_id, meta, created_at';

const iso = (ms: number) => new Date(ms).toISOString();

function toConversation(r: ConversationRow): Conversation {
  return {
    id: r.id,
    title: r.title,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    messageCount: r.message_count,
    leafId: r.leaf_id,
    settings: r.settings === null ? null : (JSON.parse(r.settings) as ChatSettings),
  };
}

function toMessage(r: MessageRow): StoredMessage {
  const m: StoredMessage = { id: r.id, seq: r.seq, parentId: r.parent_id, role: r.role, content: r.content, createdAt: iso(r.created_at) };
  if (r.tool_calls !== null) m.toolCalls = JSON.parse(r.tool_calls) as StoredToolCall[];
  if (r.tool_call_id !== null) m.toolCallId = r.tool_call_id;
  if (r.name !== null) m.name = r.name;
  if (r.reasoning !== null) m.reasoning = r.reasoning;
  if (r.thinking_ms !== null) m.thinkingMs = r.thinking_ms;
  if (r.meta !== null) m.meta = JSON.parse(r.meta) as MessageMeta;
  return m;
}

const SELECT_CONVERSATION = `
  SELECT c.id, c.title, c.created_at, c.updated_at, c.leaf_id, c.settings,
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
    const c = this.get(id);
    const path = this.messages(id);
    const children = new Map<number | null, number[]>();
    for (const r of this.#db.prepare('SELECT id, parent_id FROM messages WHERE conversation_id = ? ORDER BY seq').all(id) as { id: number; parent_id: number | null }[]) {
      const list = children.get(r.parent_id) ?? [];
      list.push(r.id);
      children.set(r.parent_id, list);
    }
    return { ...c, messages: path.map((m) => ({ ...m, siblings: children.get(m.parentId) ?? [m.id] })) };
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

  /** The path shown (what the model sees), root first. */
  messages(id: string): StoredMessage[] {
    const c = this.get(id);
    return c.leafId === null ? [] : this.pathTo(id, c.leafId);
  }

  /** The path from the root to `messageId`, root first. */
  pathTo(id: string, messageId: number): StoredMessage[] {
    const rows = this.#db
      .prepare(
        `WITH RECURSIVE path(id) AS (
           SELECT id FROM messages WHERE id = ? AND conversation_id = ?
           UNION ALL SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id WHERE m.parent_id IS NOT NULL
         )
         SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id IN (SELECT id FROM path) ORDER BY seq`,
      )
      .all(messageId, id) as MessageRow[];
    if (rows.length === 0) throw notFound('message', String(messageId));
    return rows.map(toMessage);
  }

  /** Every message of every branch, oldest first. */
  allMessages(id: string): StoredMessage[] {
    this.get(id);
    const rows = this.#db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq`).all(id) as MessageRow[];
    return rows.map(toMessage);
  }

  /**
   * Shows the branch through `messageId` (null: the empty path). With `follow` (the default) the path goes
   * on to the newest message below it, so switching to an earlier answer shows that answer's own follow-ups.
   */
  selectBranch(id: string, messageId: number | null, options: { follow?: boolean } = {}): ConversationWithMessages {
    this.get(id);
    let leaf = messageId;
    if (messageId !== null) {
      this.#ownMessage(id, messageId);
      if (options.follow !== false) {
        // The newest message of a subtree has no children (a child is always newer than its parent).
        leaf = (
          this.#db
            .prepare(
              `WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT m.id FROM messages m JOIN sub ON m.parent_id = sub.id)
               SELECT max(id) AS leaf FROM sub`,
            )
            .get(messageId) as { leaf: number }
        ).leaf;
      }
    }
    this.#db.prepare('UPDATE conversations SET leaf_id = ? WHERE id = ?').run(leaf, id);
    return this.getWithMessages(id);
  }

  /** Replaces the chat's own settings (null: back to the app's defaults). */
  setSettings(id: string, settings: ChatSettings | null): Conversation {
    const r = this.#db.prepare('UPDATE conversations SET settings = ? WHERE id = ?').run(settings === null ? null : JSON.stringify(settings), id);
    if (r.changes === 0) throw notFound('conversation', id);
    return this.get(id);
  }

  #ownMessage(id: string, messageId: number): void {
    const row = this.#db.prepare('SELECT conversation_id AS c FROM messages WHERE id = ?').get(messageId) as { c: string } | undefined;
    if (!row || row.c !== id) throw notFound('message', String(messageId));
  }

  /**
   * Appends messages as a chain in one transaction (all or none), under `parentId` (default: the end of
   * the path shown; null: a new first message), and shows the new chain. Touches the conversation.
   */
  append(id: string, messages: readonly NewMessage[], options: { parentId?: number | null } = {}): StoredMessage[] {
    return this.#db.transaction(() => {
      const c = this.get(id);
      let parent = options.parentId === undefined ? c.leafId : options.parentId;
      if (parent !== null) this.#ownMessage(id, parent);
      const now = this.#now();
      const out = this.#insert(id, messages, now, () => parent, (m) => (parent = m.id));
      this.#db.prepare('UPDATE conversations SET updated_at = ?, leaf_id = ? WHERE id = ?').run(now, parent, id);
      return out;
    })();
  }

  #insert(id: string, messages: readonly NewMessage[], now: number, parentOf: (m: NewMessage, i: number) => number | null, inserted: (m: StoredMessage, i: number) => void): StoredMessage[] {
    const insert = this.#db.prepare(
      `INSERT INTO messages (conversation_id, seq, role, content, tool_calls, tool_call_id, name, reasoning, thinking_ms, parent_id, meta, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${MESSAGE_COLUMNS}`,
    );
    let seq = (this.#db.prepare('SELECT coalesce(max(seq), 0) AS s FROM messages WHERE conversation_id = ?').get(id) as { s: number }).s;
    const out: StoredMessage[] = [];
    messages.forEach((m, i) => {
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
        parentOf(m, i),
        m.meta ? JSON.stringify(m.meta) : null,
        now,
      ) as MessageRow;
      const stored = toMessage(row);
      out.push(stored);
      inserted(stored, i);
    });
    return out;
  }

  /** The whole conversation, every branch, for an export. */
  tree(id: string): ConversationTree {
    const c = this.get(id);
    return { title: c.title, createdAt: c.createdAt, updatedAt: c.updatedAt, settings: c.settings, leafId: c.leafId, messages: this.allMessages(id) };
  }

  /**
   * A new conversation from an export, in one transaction. Messages come parents first (`parentId` names an
   * earlier message's `id` of the export); ids are the export's own and are given new ones here.
   */
  importTree(tree: { title: string; settings: ChatSettings | null; leafId: number | null; messages: readonly (NewMessage & { id: number; parentId: number | null })[] }): Conversation {
    return this.#db.transaction(() => {
      const c = this.create({ title: tree.title });
      const ids = new Map<number, number>();
      const mapped = (old: number | null): number | null => {
        if (old === null) return null;
        const n = ids.get(old);
        if (n === undefined) throw new ToolError('invalid_request', `message ${old} is named as a parent before it appears`);
        return n;
      };
      this.#insert(c.id, tree.messages, this.#now(), (_, i) => mapped(tree.messages[i]!.parentId), (m, i) => ids.set(tree.messages[i]!.id, m.id));
      this.#db.prepare('UPDATE conversations SET settings = ?, leaf_id = ? WHERE id = ?').run(tree.settings ? JSON.stringify(tree.settings) : null, mapped(tree.leafId), c.id);
      return this.get(c.id);
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
