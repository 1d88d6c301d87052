// A provider as one of the router's engines (src/server/models/engine.ts): its models are those of its
// last health check, named "<provider>/<model>"; chat() turns a ChatJob (template messages, tools,
// sampling) into an OpenAI request and yields the reply as it streams. The server's chat routes and the
// agent read replies as deltas; an upstream already sends them structured (content, reasoning_content,
// tool_calls), so each chunk carries its `deltas` (remoteDeltas()) besides the content text.
import type { ChatDelta, GenerationChunk } from '../engine/index.js';
import { WestfallError, isWestfallError } from '../errors.js';
import type { ChatEngine, ChatJob, EngineStatus, ManagedGeneration, ManagedResult, ModelEntry } from '../server/models/engine.js';
import { eventData } from './client.js';
import type { OpenedRemote, RemoteChat } from './remote-chat.js';
import type { RemoteModel } from './service.js';
import type { RemoteReplyInfo } from './types.js';

export interface RemoteChunk extends GenerationChunk {
  deltas: ChatDelta[];
}

/** The structured deltas of a remote engine's chunk, or null for a local engine's text. */
export function remoteDeltas(chunk: GenerationChunk): ChatDelta[] | null {
  return Array.isArray((chunk as Partial<RemoteChunk>).deltas) ? (chunk as RemoteChunk).deltas : null;
}

/** The reply metadata of a remote engine's generation (which provider answered, after what). */
export function remoteInfo(gen: ManagedGeneration): RemoteReplyInfo | null {
  return (gen as ManagedGeneration & { remote?: RemoteReplyInfo }).remote ?? null;
}

const EMPTY = new Int32Array(0);

/** Template messages as OpenAI messages (tool call arguments as JSON text). */
function toOpenAIMessages(messages: ChatJob['messages']): Record<string, unknown>[] {
  return messages.map((m) => {
    const out: Record<string, unknown> = { role: m.role, content: m.content };
    const calls = m.tool_calls as { id: string; type?: string; function: { name: string; arguments: unknown } }[] | undefined;
    if (Array.isArray(calls) && calls.length > 0) {
      out.tool_calls = calls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.function.name, arguments: typeof c.function.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function.arguments ?? {}) },
      }));
      if (m.content === '') out.content = null;
    }
    if (typeof m.tool_call_id === 'string') out.tool_call_id = m.tool_call_id;
    if (typeof m.name === 'string' && m.role === 'tool') out.name = m.name;
    return out;
  });
}

export function chatJobToRequest(job: ChatJob, model: string): Record<string, unknown> {
  const p = job.params ?? {};
  const body: Record<string, unknown> = { model, messages: toOpenAIMessages(job.messages), stream: true, stream_options: { include_usage: true } };
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.topP !== undefined) body.top_p = p.topP;
  if (p.maxTokens !== undefined) body.max_tokens = p.maxTokens;
  if (p.seed !== undefined) body.seed = p.seed;
  if (p.stop && p.stop.length > 0) body.stop = p.stop;
  if (p.presencePenalty !== undefined) body.presence_penalty = p.presencePenalty;
  if (p.frequencyPenalty !== undefined) body.frequency_penalty = p.frequencyPenalty;
  const f = job.format;
  if (f?.tools && f.tools.length > 0) {
    body.tools = f.tools;
    if (f.toolChoice) body.tool_choice = f.toolChoice;
    if (f.parallelToolCalls !== undefined) body.parallel_tool_calls = f.parallelToolCalls;
  }
  const schema = f?.jsonSchema ?? p.jsonSchema;
  if (schema) body.response_format = { type: 'json_schema', json_schema: { name: 'answer', schema } };
  if (f?.enableThinking === false) body.chat_template_kwargs = { ...(f.chatTemplateKwargs ?? {}), enable_thinking: false };
  else if (f?.chatTemplateKwargs) body.chat_template_kwargs = f.chatTemplateKwargs;
  return body;
}

interface WireChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null; tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[] }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
  error?: { message?: string; code?: string } | string;
}

export function wireToDeltas(c: WireChunk): ChatDelta[] {
  const out: ChatDelta[] = [];
  const d = c.choices?.[0]?.delta;
  if (!d) return out;
  // vLLM and some others name the field `reasoning`.
  const reasoning = d.reasoning_content ?? d.reasoning;
  if (reasoning) out.push({ type: 'reasoning', text: reasoning });
  if (d.content) out.push({ type: 'content', text: d.content });
  for (const t of d.tool_calls ?? []) {
    const delta: ChatDelta = { type: 'tool_call', index: t.index ?? 0 };
    if (t.id) delta.id = t.id;
    if (t.function?.name) delta.name = t.function.name;
    if (t.function?.arguments) delta.arguments = t.function.arguments;
    out.push(delta);
  }
  return out;
}

function stopReasonOf(finish: string | null): ManagedResult['stopReason'] {
  if (finish === 'length') return 'max_tokens';
  return 'eos';
}

let nextId = 0;

export class RemoteEngine implements ChatEngine {
  readonly kind = 'remote' as const;
  readonly id: string;
  readonly #remote: RemoteChat;

  /** `providerId`: the provider this engine stands for. */
  constructor(remote: RemoteChat, providerId: string) {
    this.#remote = remote;
    this.id = providerId;
  }

  models(): ModelEntry[] {
    // The model list is the last check's: a stale one (older than the health TTL, e.g. a server that was
    // down when the app started) is checked again in the background, one check at a time per provider.
    this.#remote.service.refresh().catch(() => {});
    const health = this.#remote.service.list().find((p) => p.id === this.id)?.health;
    return this.#remote.service
      .models()
      .filter((m) => m.provider.id === this.id)
      .map((m) => ({
        id: m.id,
        engine: this.id,
        kind: 'remote' as const,
        location: m.host,
        state: health?.state === 'error' ? ('error' as const) : ('ready' as const),
        ...(health?.error ? { error: health.error } : {}),
      }));
  }

  status(): EngineStatus {
    const p = this.#remote.service.get(this.id);
    const h = p.health;
    return { id: this.id, kind: 'remote', ok: p.enabled && h.state !== 'error', message: h.state === 'error' ? (h.error?.message ?? 'failing') : h.state === 'ok' ? `connected, ${h.models.length} models` : 'not checked yet' };
  }

  #resolve(model: string): RemoteModel {
    const m = this.#remote.service.resolve(model);
    if (!m || m.provider.id !== this.id) throw new WestfallError('upstream_model_not_found', `the model "${model}" is not one of this provider's`);
    return m;
  }

  async chat(job: ChatJob & { model: string }): Promise<ManagedGeneration> {
    return startRemoteGeneration(this.#remote, this.#resolve(job.model), job);
  }
}

/**
 * Opens the upstream stream (retries and fallback to another provider included; a fallback to the local
 * model is not possible here and ends in the provider's error) and wraps it as a ManagedGeneration.
 */
export async function startRemoteGeneration(remote: RemoteChat, model: RemoteModel, job: ChatJob): Promise<ManagedGeneration> {
  if (job.signal?.aborted) throw new WestfallError('aborted', 'the request was cancelled');
  const controller = new AbortController();
  const signal = job.signal ? AbortSignal.any([job.signal, controller.signal]) : controller.signal;
  const started = performance.now();
  const tried = await remote.openStream(model, chatJobToRequest(job, model.upstreamModel), signal);
  if (tried.kind === 'local') {
    throw new WestfallError('upstream_unreachable', `the provider ${model.provider.name} failed and its fallback is the local model, which this caller cannot use`, { details: { fallback: tried.info.fallback } });
  }
  const opened: OpenedRemote = tried;
  const firstAt = performance.now();
  let text = '';
  let finish: string | null = null;
  let usage: WireChunk['usage'] = null;
  let resolveResult!: (r: ManagedResult) => void;
  let rejectResult!: (e: unknown) => void;
  const result = new Promise<ManagedResult>((res, rej) => {
    resolveResult = res;
    rejectResult = rej;
  });
  result.catch(() => {});
  const chunkOf = (ev: string): RemoteChunk | null => {
    const data = eventData(ev);
    if (data === null) return null;
    let c: WireChunk;
    try {
      c = JSON.parse(data) as WireChunk;
    } catch {
      throw new WestfallError('upstream_error', `${opened.info.provider} sent an event that is not JSON`);
    }
    if (c.error) {
      const message = typeof c.error === 'string' ? c.error : (c.error.message ?? 'error');
      throw new WestfallError('upstream_error', `${opened.info.provider} (${opened.info.host}) reported: ${message.slice(0, 300)}`);
    }
    if (c.usage) usage = c.usage;
    const f = c.choices?.[0]?.finish_reason;
    if (f) finish = f;
    const deltas = wireToDeltas(c);
    if (deltas.length === 0) return null;
    const content = deltas.filter((d) => d.type === 'content').map((d) => (d as { text: string }).text).join('');
    text += content;
    return { text: content, tokens: EMPTY, deltas };
  };
  async function* iterate(): AsyncGenerator<RemoteChunk> {
    let sawDone = false;
    try {
      for (const ev of opened.head) {
        if (ev.includes('[DONE]')) sawDone = true;
        const c = chunkOf(ev);
        if (c) yield c;
      }
      if (!opened.ended) {
        for (;;) {
          const n = await opened.rest.next();
          if (n.done) break;
          if (n.value.includes('data: [DONE]')) sawDone = true;
          const c = chunkOf(n.value);
          if (c) yield c;
        }
      }
      if (!sawDone && finish === null) throw new WestfallError('upstream_error', `the stream from ${opened.info.provider} (${opened.info.host}) was cut off`);
      const end = performance.now();
      const u = usage as WireChunk['usage'];
      const completionTokens = u?.completion_tokens ?? 0;
      const promptTokens = u?.prompt_tokens ?? 0;
      const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
      const genMs = end - firstAt;
      resolveResult({
        text,
        tokens: EMPTY,
        stopReason: stopReasonOf(finish),
        usage: { promptTokens, reusedPromptTokens: cached, evaluatedPromptTokens: promptTokens - cached, restoredPromptTokens: 0, copiedPromptTokens: 0, completionTokens, totalTokens: promptTokens + completionTokens },
        timings: {
          queueMs: 0,
          promptMs: firstAt - started,
          generationMs: genMs,
          timeToFirstTokenMs: firstAt - started,
          promptTokensPerSecond: 0,
          generationTokensPerSecond: genMs > 0 ? (completionTokens * 1000) / genMs : 0,
        },
      });
    } catch (err) {
      const e = signal.aborted && !isWestfallError(err, 'upstream_error') ? new WestfallError('aborted', 'the request was cancelled') : err;
      rejectResult(e);
      throw e;
    } finally {
      opened.cancel();
    }
  }
  const id = `gen-remote-${++nextId}`;
  let iterator: AsyncGenerator<RemoteChunk> | null = null;
  const gen: ManagedGeneration & { remote: RemoteReplyInfo } = {
    id,
    modelId: opened.info.model,
    chatFormat: null,
    result,
    signal,
    serverAbortReason: null,
    remote: opened.info,
    abort: () => {
      controller.abort(new WestfallError('aborted'));
      opened.cancel();
    },
    [Symbol.asyncIterator]: () => (iterator ??= iterate()),
  };
  signal.addEventListener('abort', () => opened.cancel(), { once: true });
  return gen;
}
