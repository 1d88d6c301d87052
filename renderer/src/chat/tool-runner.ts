// The assistant with tools: POST /api/agent/chat streams the agent's events as Server-Sent Events (token,
// reasoning, tool_call, confirmation_required, tool_result, invalid_tool_call, format_warning, done, error;
// src/server/routes/tools.ts). One step may call several tools at once: each gets its own card.
// and tool calls that change data wait for the user's answer at /api/agent/confirmations/:id. This module
// turns those events into what the chat shows: reply text, and one card per tool call whose status moves
// running → (needs confirmation →) done / denied / failed. A confirmation carries the call in plain words
// and what its form needs (schema, choices); the user's edited arguments go back with Allow. A reply with
// neither text nor a call comes as `done` with `empty` (why), so the chat can say so and offer a retry.
import { ApiError, type ApiClient } from '../api/client.js';
import type { GenerationParams, ThinkingOptions } from '../api/types.js';
import type { ToolCallView } from './tool-call-card.js';
import { setToolCatalog, type ToolInfo } from './tool-form-catalog.js';
import type { JsonSchema, ToolChoices } from './tool-form-model.js';

export type ToolEvent =
  | { type: 'token'; step: number; text: string }
  | { type: 'reasoning'; step: number; text: string }
  | { type: 'warning'; message: string }
  | { type: 'tool_call'; call: ToolCallView }
  /** `empty`: the reply had no text and no call (thinking aside), and why. */
  | { type: 'done'; stopReason: string; answer: string; conversationId: string | null; empty: string | null }
  | { type: 'error'; code: string; message: string };

export interface AgentRequest {
  message: string;
  /** The chat's model (null or absent: the default model). */
  model?: string | null;
  conversationId?: string | null;
  systemPrompt?: string;
  params?: Pick<GenerationParams, 'maxTokens' | 'temperature' | 'topP' | 'topK' | 'seed'>;
  thinking?: Pick<ThinkingOptions, 'enabled' | 'budget'>;
  /** Offer no tools this time ("Retry without tools"). */
  withoutTools?: boolean;
}

interface RawConfirmation {
  id: string;
  call: RawCall;
  tool?: { title?: string; source?: string };
  sentence?: string;
  template?: string | null;
  parameters?: JsonSchema;
  choices?: ToolChoices;
  requiredAny?: string[][];
}

interface RawCall {
  id: string;
  name: string;
  arguments: unknown;
}

export class ToolRunner {
  readonly #api: ApiClient;
  #available: Promise<boolean> | null = null;
  /** Tool call id → the confirmation id the backend waits on. */
  readonly #confirmations = new Map<string, string>();

  constructor(api: ApiClient) {
    this.#api = api;
  }

  /** Whether the backend runs tools (GET /api/tools answers). Asked once. */
  available(): Promise<boolean> {
    this.#available ??= this.#api.get<{ tools?: ToolInfo[] }>('/api/tools').then(
      (r) => {
        setToolCatalog(r.tools ?? []);
        return true;
      },
      (err: unknown) => {
        if (!(err instanceof ApiError) || !err.isMissingRoute) this.#available = null; // ask again later
        return false;
      },
    );
    return this.#available;
  }

  async run(req: AgentRequest, onEvent: (e: ToolEvent) => void, signal: AbortSignal): Promise<void> {
    const body = {
      message: req.message,
      ...(req.model ? { model: req.model } : {}),
      ...(req.conversationId ? { conversationId: req.conversationId } : {}),
      ...(req.systemPrompt ? { systemPrompt: req.systemPrompt } : {}),
      ...(req.thinking ? { thinking: req.thinking } : {}),
      ...(req.withoutTools ? { tools: [] } : {}),
      ...(req.params ? { params: agentParams(req.params) } : {}),
      stream: true,
    };
    let finished = false;
    await this.#api.sse(
      '/api/agent/chat',
      (ev) => {
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(ev.data) as Record<string, unknown>;
        } catch {
          return;
        }
        switch (ev.event) {
          case 'token':
          case 'reasoning':
            if (typeof data.text === 'string') onEvent({ type: ev.event, step: Number(data.step) || 0, text: data.text });
            break;
          case 'format_warning':
            if (typeof data.message === 'string') onEvent({ type: 'warning', message: data.message });
            break;
          case 'tool_call': {
            const call = data.call as RawCall;
            const title = typeof data.title === 'string' ? { title: data.title } : {};
            onEvent({ type: 'tool_call', call: { id: call.id, name: call.name, arguments: call.arguments, status: 'running', mutates: data.mutates === true, ...title } });
            break;
          }
          case 'confirmation_required': {
            const c = data.confirmation as RawConfirmation;
            this.#confirmations.set(c.call.id, c.id);
            onEvent({
              type: 'tool_call',
              call: {
                id: c.call.id,
                name: c.call.name,
                arguments: c.call.arguments,
                status: 'pending',
                mutates: true,
                ...(c.tool?.title ? { title: c.tool.title } : {}),
                ...(c.tool?.source ? { source: c.tool.source } : {}),
                ...(c.sentence ? { sentence: c.sentence } : {}),
                ...(c.template !== undefined ? { template: c.template } : {}),
                ...(c.parameters ? { schema: c.parameters } : {}),
                ...(c.choices ? { choices: c.choices } : {}),
                ...(c.requiredAny ? { requiredAny: c.requiredAny } : {}),
              },
            });
            break;
          }
          case 'tool_result': {
            const id = String(data.callId);
            const result = data.result as { error?: { code?: string; message?: string } } | undefined;
            const declined = data.ok !== true && result?.error?.code === 'declined';
            this.#confirmations.delete(id);
            onEvent({
              type: 'tool_call',
              call: {
                id,
                name: String(data.name),
                // What ran: the user's edit where there was one.
                arguments: data.arguments,
                status: data.ok === true ? 'done' : declined ? 'denied' : 'error',
                result: data.result,
              },
            });
            break;
          }
          case 'done': {
            finished = true;
            const r = data.result as { stopReason?: string; answer?: string; conversationId?: string | null; empty?: string };
            onEvent({ type: 'done', stopReason: r.stopReason ?? 'answer', answer: r.answer ?? '', conversationId: r.conversationId ?? null, empty: r.empty ?? null });
            break;
          }
          case 'error': {
            finished = true;
            const e = (data.error ?? {}) as { code?: string; message?: string };
            onEvent({ type: 'error', code: e.code ?? 'error', message: e.message ?? 'The assistant failed' });
            break;
          }
          default:
            break; // invalid_tool_call: the agent tells the model and retries
        }
      },
      signal,
      { method: 'POST', body },
    );
    if (!finished && !signal.aborted) onEvent({ type: 'error', code: 'connection_lost', message: 'The reply ended unexpectedly.' });
  }

  /** Answers a pending confirmation of the tool call `callId` (with the user's edited arguments, if any). */
  async decide(callId: string, approved: boolean, args?: Record<string, unknown>): Promise<void> {
    const id = this.#confirmations.get(callId);
    if (!id) throw new Error('this tool call is no longer waiting for an answer');
    await this.#api.post(`/api/agent/confirmations/${encodeURIComponent(id)}`, { approved, ...(approved && args ? { arguments: args } : {}) });
    this.#confirmations.delete(callId);
  }
}

/** The sampling the agent route takes (its max tokens are capped at 32768; a chat's min-p and repeat penalty do not apply). */
function agentParams(p: NonNullable<AgentRequest['params']>): Record<string, number> {
  const out: Record<string, number> = {};
  if (p.maxTokens) out.maxTokens = Math.min(32_768, p.maxTokens);
  for (const k of ['temperature', 'topP', 'topK', 'seed'] as const) if (p[k] !== undefined) out[k] = p[k];
  return out;
}
