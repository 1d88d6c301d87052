// OpenAI-compatible routes: GET /v1/models, POST /v1/chat/completions (JSON or SSE, with function calling:
// see ../openai-tools.ts), POST /v1/completions, POST /v1/embeddings. Errors use OpenAI's shape (see
// errors.ts). Works with the official `openai` client.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { WestfallError } from '../../errors.js';
import type { AppContext } from '../context.js';
import { openAIErrorBody, parseWith, toErrorInfo } from '../errors.js';
import type { ManagedGeneration, ManagedResult } from '../model-manager.js';
import {
  chatCompletionRequestSchema,
  completionRequestSchema,
  embeddingRequestSchema,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type Completion,
  type EmbeddingList,
  type GenerationParams,
  type ModelList,
  type OpenAIModel,
  type StopReason,
} from '../schemas.js';
import type { ChatDelta } from '../../engine/index.js';
import { ReplyReader } from '../../tools/reply-reader.js';
import { planChat, toWireCall } from '../openai-tools.js';
import { openSse, type SseStream } from '../sse.js';
import { infoHeaders, proxyChatCompletion } from '../../providers/proxy.js';

type FinishReason = 'stop' | 'length' | 'tool_calls' | null;

export function finishReason(r: StopReason): FinishReason {
  if (r === 'eos' || r === 'stop_sequence') return 'stop';
  if (r === 'max_tokens' || r === 'context_full') return 'length';
  return null;
}

function openAIUsage(r: ManagedResult) {
  return {
    prompt_tokens: r.usage.promptTokens,
    completion_tokens: r.usage.completionTokens,
    total_tokens: r.usage.totalTokens,
    // OpenAI's field for prompt tokens served from a cache (here: the sequence's own, another sequence's
    // shared prefix, or a conversation state loaded from disk).
    prompt_tokens_details: { cached_tokens: r.usage.reusedPromptTokens },
  };
}

interface SamplingFields {
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  top_k?: number | null | undefined;
  min_p?: number | null | undefined;
  seed?: number | null | undefined;
  presence_penalty?: number | null | undefined;
  frequency_penalty?: number | null | undefined;
  repeat_penalty?: number | null | undefined;
  ignore_eos?: boolean | null | undefined;
  cache_prompt?: boolean | null | undefined;
  stop?: string | string[] | null | undefined;
}

export function toParams(b: SamplingFields, maxTokens: number | null | undefined): GenerationParams {
  const p: GenerationParams = {};
  if (b.temperature != null) p.temperature = b.temperature;
  if (b.top_p != null) p.topP = b.top_p;
  if (b.top_k != null) p.topK = b.top_k;
  if (b.min_p != null) p.minP = b.min_p;
  if (b.seed != null) p.seed = b.seed;
  if (b.presence_penalty != null) p.presencePenalty = b.presence_penalty;
  if (b.frequency_penalty != null) p.frequencyPenalty = b.frequency_penalty;
  if (b.repeat_penalty != null) p.repeatPenalty = b.repeat_penalty;
  if (b.ignore_eos != null) p.ignoreEos = b.ignore_eos;
  if (b.cache_prompt != null) p.cachePrompt = b.cache_prompt;
  if (b.stop != null) p.stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (maxTokens != null) p.maxTokens = maxTokens;
  return p;
}

/** A stream delta in OpenAI's shape (llama-server's reasoning_content for thinking). */
function wireDelta(d: ChatDelta): ChatCompletionChunk['choices'][number]['delta'] {
  if (d.type === 'reasoning') return { reasoning_content: d.text };
  if (d.type === 'content') return { content: d.text };
  const fn: { name?: string; arguments?: string } = {};
  if (d.name !== undefined) fn.name = d.name;
  fn.arguments = d.arguments ?? '';
  return { tool_calls: [{ index: d.index, ...(d.id ? { id: d.id, type: 'function' as const } : {}), function: fn }] };
}

/** A reply with calls ends in "tool_calls", unless it was cut off (the last call may be incomplete). */
function callsFinish(called: boolean, r: StopReason): FinishReason {
  const cut = r === 'max_tokens' || r === 'context_full';
  return called && !cut ? 'tool_calls' : finishReason(r);
}

const now = () => Math.floor(Date.now() / 1000);

const MARK = '\u0000';
/** A text chunk's frame as a template: everything but the text serialized once, per stream. */
function textTemplate(sample: object): ((text: string) => string) | undefined {
  const parts = JSON.stringify(sample).split(JSON.stringify(MARK));
  if (parts.length !== 2) return undefined;
  const [head, tail] = parts as [string, string];
  return (text) => head + JSON.stringify(text) + tail;
}

export const openAIRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const fingerprint = `westfall-${ctx.version}`;

  const listModels = (): OpenAIModel[] => {
    // Every model the router can send a request to: this computer's installed ones (loaded or not) and
    // those of engines registered with it, with where each runs in our `westfall` extension.
    const routed: OpenAIModel[] = ctx.manager.models().map((m) => ({
      id: m.id,
      object: 'model',
      created: m.loadedAt ? Math.floor(Date.parse(m.loadedAt) / 1000) : now(),
      owned_by: m.kind === 'local' ? 'westfall' : m.engine,
      westfall: m,
    }));
    const seen = new Set(routed.map((m) => m.id));
    // Remote providers' models ("<provider>/<model>"), owned_by the host they run on.
    const remote: OpenAIModel[] = (ctx.remote?.service.models() ?? [])
      .filter((m) => !seen.has(m.id))
      .map((m) => ({ id: m.id, object: 'model', created: now(), owned_by: m.host }));
    return [...routed, ...remote];
  };

  app.get('/v1/models', async (): Promise<ModelList> => ({ object: 'list', data: listModels() }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request): Promise<OpenAIModel> => {
    const m = listModels().find((x) => x.id === request.params.model);
    if (!m) throw new WestfallError('model_not_found', `no model named "${request.params.model}" is installed or offered by a provider`, { details: { model: request.params.model } });
    return m;
  });

  /**
   * Streams a generation as SSE; `frame` turns text (or the end) into a chunk object, or null to send
   * nothing for it; `beforeFinal` adds chunks between the last text and the final one.
   */
  const pump = async (
    sse: SseStream,
    gen: ManagedGeneration,
    frame: (text: string | null, finish: FinishReason, result: ManagedResult | null) => object | null,
    /** The frame of a text chunk as JSON text, when the route has a faster way to make it than `frame`. */
    textJson: ((text: string) => string) | undefined,
    includeUsage: boolean,
    usageFrame: (r: ManagedResult) => object,
    beforeFinal?: (r: ManagedResult) => object[],
  ) => {
    try {
      for await (const chunk of gen) {
        if (!chunk.text) continue;
        if (textJson) {
          sse.sendJson(textJson(chunk.text));
          continue;
        }
        const f = frame(chunk.text, null, null);
        if (f) sse.send(f);
      }
      const r = await gen.result;
      if (gen.serverAbortReason) throw gen.serverAbortReason;
      if (sse.closed) return;
      for (const f of beforeFinal?.(r) ?? []) sse.send(f);
      sse.send(frame(null, finishReason(r.stopReason), includeUsage ? null : r)!);
      if (includeUsage) sse.send(usageFrame(r));
      sse.done();
    } catch (err) {
      if (sse.closed) return;
      // The stream has begun, so the error travels as a final event (the openai client raises it).
      sse.send(openAIErrorBody(toErrorInfo(err)));
      sse.done();
    }
  };

  app.post('/v1/chat/completions', async (request, reply: FastifyReply) => {
    const body = parseWith(chatCompletionRequestSchema, request.body);
    // A remote provider's model ("<provider>/<model>"): the request goes there as it came (src/providers).
    const remoteModel = body.model && ctx.remote ? ctx.remote.service.resolve(body.model) : null;
    if (remoteModel && ctx.remote) {
      const r = await proxyChatCompletion(ctx.remote, remoteModel, request.body as Record<string, unknown>, reply, ctx.streams);
      if (r === 'handled') return reply;
      // The provider failed before its first token and falls back to the local model: the reply says so,
      // and the default local model answers.
      reply.headers(infoHeaders(r.info));
      delete body.model;
    }
    const keepAlive = body.keep_alive ?? undefined;
    const clientGone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) clientGone.abort();
    };
    reply.raw.on('close', onClose);
    // The local model named (loaded first when it is not), or the default one.
    const { route, model } = await ctx.manager.prepare(body.model, { keepAlive, signal: clientGone.signal });
    if (!model) throw new WestfallError('model_not_loaded', `the model "${route.model}" is not a local model`);
    // The model's own format: its template renders tools and thinking, its grammar constrains calls (lazy
    // for tool_choice auto), its parser reads the reply back (reasoning, content, calls).
    const plan = planChat(model, body);
    const gen = await ctx.manager.chat({
      model: route.model,
      ...(keepAlive !== undefined ? { keepAlive } : {}),
      messages: plan.messages,
      params: toParams(body, body.max_completion_tokens ?? body.max_tokens),
      format: plan.format,
      ...(plan.grammar ? { grammar: plan.grammar } : {}),
      ...(plan.reasoningBudget ? { reasoningBudget: plan.reasoningBudget } : {}),
      signal: clientGone.signal,
    });
    const reader = new ReplyReader(plan.mode, gen.chatFormat, { reasoningInContent: plan.reasoningInContent });
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = now();
    if (!body.stream) {
      try {
        for await (const chunk of gen) reader.push(chunk.text);
        const r = await gen.result;
        if (gen.serverAbortReason) throw gen.serverAbortReason;
        const { reply: out } = reader.finish();
        const calls = out.calls.map(toWireCall);
        const message: ChatCompletion['choices'][number]['message'] = {
          role: 'assistant',
          content: calls.length > 0 && out.content === '' ? null : out.content,
          refusal: null,
        };
        if (out.reasoning) message.reasoning_content = out.reasoning;
        if (calls.length > 0) message.tool_calls = calls;
        const completion: ChatCompletion = {
          id,
          object: 'chat.completion',
          created,
          model: gen.modelId,
          choices: [{ index: 0, message, logprobs: null, finish_reason: callsFinish(calls.length > 0, r.stopReason) }],
          usage: openAIUsage(r),
          system_fingerprint: fingerprint,
          ...(out.warning ? { warning: out.warning } : {}),
        };
        return { ...completion, timings: r.timings };
      } finally {
        reply.raw.off('close', onClose);
      }
    }
    const sse = openSse(reply, clientGone);
    const base = { id, object: 'chat.completion.chunk' as const, created, model: gen.modelId, system_fingerprint: fingerprint };
    const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason, r: ManagedResult | null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(r ? { usage: openAIUsage(r), timings: r.timings } : {}),
    });
    sse.send(chunk({ role: 'assistant', content: '' }, null, null) satisfies ChatCompletionChunk);
    const includeUsage = body.stream_options?.include_usage === true;
    const usageFrame = (r: ManagedResult) => ({ ...base, choices: [], usage: openAIUsage(r), timings: r.timings });
    // Plain text of a format with nothing to read out (no thinking, no tools, no schema) is sent as it
    // comes, each frame from a template serialized once: the JS thread shares the CPU with the decode
    // threads, so per-token work slows generation itself on small machines.
    const cf = gen.chatFormat;
    const plainText = plan.mode === 'native' && cf !== null && !cf.grammar && (!cf.supportsThinking || cf.reasoningFormat === 'none');
    let called = false;
    let warning: string | null = null;
    let stopReason: StopReason | null = null;
    ctx.streams.track(
      pump(
        sse,
        gen,
        (text, finish, r) => {
          if (text !== null) {
            const deltas = reader.push(text);
            if (deltas.length === 0) return null;
            if (deltas.length === 1) return chunk(wireDelta(deltas[0]!), null, null);
            for (const d of deltas.slice(0, -1)) sse.send(chunk(wireDelta(d), null, null));
            return chunk(wireDelta(deltas.at(-1)!), null, null);
          }
          return { ...chunk({}, stopReason ? callsFinish(called, stopReason) : finish, r), ...(warning ? { warning } : {}) };
        },
        plainText ? textTemplate(chunk({ content: MARK }, null, null)) : undefined,
        includeUsage,
        usageFrame,
        (r) => {
          stopReason = r.stopReason;
          // Before the final frame: what the last parse adds (a call's header and arguments that arrived
          // with the last tokens, the rest of a held-back text).
          const { reply: out, deltas } = reader.finish();
          called = out.calls.length > 0;
          warning = out.warning;
          return deltas.map((d) => chunk(wireDelta(d), null, null));
        },
      ),
    );
    return reply;
  });

  app.post('/v1/completions', async (request, reply: FastifyReply) => {
    const body = parseWith(completionRequestSchema, request.body);
    const prompt = typeof body.prompt === 'string' ? body.prompt : body.prompt[0]!;
    if (prompt.length === 0) throw new WestfallError('invalid_request', 'prompt must not be empty', { details: { fields: [{ path: 'prompt', message: 'must not be empty' }] } });
    const clientGone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) clientGone.abort();
    };
    reply.raw.on('close', onClose);
    const gen = await ctx.manager.complete({ model: body.model, keepAlive: body.keep_alive ?? undefined, prompt, params: toParams(body, body.max_tokens), signal: clientGone.signal });
    const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
    const created = now();
    const base = { id, object: 'text_completion' as const, created, model: gen.modelId, system_fingerprint: fingerprint };
    if (!body.stream) {
      try {
        const r = await gen.result;
        if (gen.serverAbortReason) throw gen.serverAbortReason;
        const out: Completion = {
          ...base,
          choices: [{ index: 0, text: (body.echo ? prompt : '') + r.text, logprobs: null, finish_reason: finishReason(r.stopReason) }],
          usage: openAIUsage(r),
        };
        return { ...out, timings: r.timings };
      } finally {
        reply.raw.off('close', onClose);
      }
    }
    const sse = openSse(reply, clientGone);
    if (body.echo) sse.send({ ...base, choices: [{ index: 0, text: prompt, logprobs: null, finish_reason: null }] });
    const frame = (text: string | null, finish: FinishReason, r: ManagedResult | null) => ({
      ...base,
      choices: [{ index: 0, text: text ?? '', logprobs: null, finish_reason: finish }],
      ...(r ? { usage: openAIUsage(r), timings: r.timings } : {}),
    });
    ctx.streams.track(
      pump(
        sse,
        gen,
        frame,
        textTemplate(frame(MARK, null, null)),
        body.stream_options?.include_usage === true,
        (r) => ({ ...base, choices: [], usage: openAIUsage(r), timings: r.timings }),
      ),
    );
    return reply;
  });

  app.post('/v1/embeddings', async (request): Promise<EmbeddingList> => {
    const body = parseWith(embeddingRequestSchema, request.body);
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const { embeddings, promptTokens, modelId } = await ctx.manager.embed(inputs, { model: body.model, keepAlive: body.keep_alive ?? undefined });
    const base64 = body.encoding_format === 'base64';
    return {
      object: 'list',
      model: modelId,
      data: embeddings.map((e, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64') : Array.from(e),
      })),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  });
};
