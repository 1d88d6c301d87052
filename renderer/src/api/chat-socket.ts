// The chat stream over one WebSocket (/api/llm/stream, protocol in docs/server.md): `start` sends
// {type:'chat', id, ...} and routes the server's token/reasoning/done/error messages of that id to its handlers;
// `cancel` sends {type:'cancel', id}. Several requests may be in flight. The socket opens on first use and
// again after it dropped; requests in flight when it drops end with an error `connection_lost`.
import type { ChatMessage, GenerationParams, ThinkingOptions, Tool, WsDoneMessage } from './types.js';

export interface StreamError {
  code: string;
  message: string;
  details?: unknown;
}

export interface StreamHandlers {
  onToken(text: string): void;
  /** A piece of the model's thinking (models that think), apart from the answer. */
  onReasoning?(text: string): void;
  onDone(done: WsDoneMessage): void;
  onError(error: StreamError): void;
  /** Messages of this request with another type (e.g. tool events of a later protocol version). */
  onOther?(message: Record<string, unknown>): void;
}

export interface ChatStreamRequest {
  messages: ChatMessage[];
  params?: GenerationParams;
  tools?: Tool[];
  thinking?: ThinkingOptions;
  conversationId?: string;
  /** The chat's model (absent: the default model). */
  model?: string;
  /** When the conversation does not fit the window: refuse, or leave the oldest turns out (the chat's choice). */
  contextOverflow?: 'refuse' | 'drop_oldest';
  /** A window smaller than the model's (a chat's own limit). */
  contextTokens?: number;
}

export interface StreamHandle {
  readonly id: string;
  cancel(): void;
}

export function newId(prefix = 'r'): string {
  const c = globalThis.crypto;
  const rand = typeof c?.randomUUID === 'function' ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${rand}`;
}

export class ChatSocket {
  readonly url: string;
  readonly #protocols: string[];
  #ws: WebSocket | null = null;
  #opening: Promise<WebSocket> | null = null;
  readonly #inFlight = new Map<string, StreamHandlers>();
  #closed = false;

  constructor(url: string, protocols: string[]) {
    this.url = url;
    this.#protocols = protocols;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  async start(request: ChatStreamRequest, handlers: StreamHandlers): Promise<StreamHandle> {
    const ws = await this.#open();
    const id = newId('chat');
    this.#inFlight.set(id, handlers);
    ws.send(JSON.stringify({ type: 'chat', id, ...request }));
    return { id, cancel: () => this.cancel(id) };
  }

  cancel(id: string): void {
    if (this.#inFlight.has(id) && this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ type: 'cancel', id }));
  }

  close(): void {
    this.#closed = true;
    this.#ws?.close(1000, 'client closed');
    this.#ws = null;
  }

  #open(): Promise<WebSocket> {
    if (this.#closed) return Promise.reject(new Error('the chat socket is closed'));
    if (this.#ws?.readyState === WebSocket.OPEN) return Promise.resolve(this.#ws);
    if (this.#opening) return this.#opening;
    this.#opening = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.url, this.#protocols);
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.#ws = ws;
        this.#opening = null;
        resolve(ws);
      };
      ws.onmessage = (ev) => this.#onMessage(ev.data);
      ws.onclose = (ev) => {
        if (this.#ws === ws) this.#ws = null;
        if (!opened) {
          this.#opening = null;
          reject(new Error(ev.code === 1006 ? 'The assistant service cannot be reached (or refused the token).' : `WebSocket closed (${ev.code})`));
          return;
        }
        const code = ev.code === 1001 ? 'shutting_down' : 'connection_lost';
        for (const [id, h] of [...this.#inFlight]) {
          this.#inFlight.delete(id);
          h.onError({ code, message: code === 'shutting_down' ? 'The assistant service is shutting down.' : 'The connection to the assistant service was lost.' });
        }
      };
    });
    return this.#opening;
  }

  #onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const h = id !== undefined ? this.#inFlight.get(id) : undefined;
    if (!h || id === undefined) {
      if (msg.type === 'error') console.warn('chat socket error', msg.error);
      return;
    }
    switch (msg.type) {
      case 'token':
        if (typeof msg.text === 'string') h.onToken(msg.text);
        break;
      case 'reasoning':
        if (typeof msg.text === 'string') h.onReasoning?.(msg.text);
        break;
      case 'done':
        this.#inFlight.delete(id);
        h.onDone(msg as unknown as WsDoneMessage);
        break;
      case 'error': {
        this.#inFlight.delete(id);
        const e = (msg.error ?? {}) as Partial<StreamError>;
        h.onError({ code: String(e.code ?? 'error'), message: String(e.message ?? 'The request failed'), details: e.details });
        break;
      }
      default:
        h.onOther?.(msg);
    }
  }
}
