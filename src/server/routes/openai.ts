// OpenAI-compatible routes: GET /v1/models, POST /v1/chat/completions (JSON or SSE), POST /v1/completions,
// POST /v1/embeddings. Errors use OpenAI's shape (see errors.ts). Works with the official `openai` client.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ChatTemplateMessage } from '../../engine/index.js';
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
  type OpenAIMessage,
  type OpenAIModel,
  type StopReason,
} from '../schemas.js';
import { openSse, type SseStream } from '../sse.js';

type FinishReason = 'stop' | 'length' | null;

export function finishReason(r: StopReason): FinishReason {
  if (r === 'eos' || r === 'stop_sequence') return 'stop';
  if (r === 'max_tokens' || r === 'context_full') return 'length';
  return null;
}

function openAIUsage(r: ManagedResult) {
  return { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens, total_tokens: r.usage.totalTokens };
}

function contentText(content: OpenAIMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((p) => p.type === 'text' || typeof p.text === 'string')
    .map((p) => p.text ?? '')
    .join('');
}

/** OpenAI messages to what the chat template takes (tool calls and ids pass through). */
export function toTemplateMessages(messages: OpenAIMessage[]): ChatTemplateMessage[] {
  return messages.map((m) => {
    const out: ChatTemplateMessage = { role: m.role === 'developer' ? 'system' : m.role, content: contentText(m.content) };
    if (m.name) out.name = m.name;
    if (m.tool_calls) out.tool_calls = m.tool_calls;
    if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
    return out;
  });
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
  if (b.stop != null) p.stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (maxTokens != null) p.maxTokens = maxTokens;
  return p;
}

function chatParams(b: ChatCompletionRequest): GenerationParams {
  const p = toParams(b, b.max_completion_tokens ?? b.max_tokens);
  const rf = b.response_format;
  if (rf?.type === 'json_object') p.jsonSchema = { type: 'object' };
  else if (rf?.type === 'json_schema') p.jsonSchema = (rf.json_schema as { schema?: Record<string, unknown> }).schema ?? { type: 'object' };
  return p;
}

const now = () => Math.floor(Date.now() / 1000);

export const openAIRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const fingerprint = `westfall-${ctx.version}`;

  const listModels = (): OpenAIModel[] => {
    const s = ctx.manager.status();
    if (s.state !== 'ready' || !s.model) return [];
    const created = s.loadedAt ? Math.floor(Date.parse(s.loadedAt) / 1000) : now();
    return [{ id: s.model.id, object: 'model', created, owned_by: 'westfall' }];
  };

  app.get('/v1/models', async (): Promise<ModelList> => ({ object: 'list', data: listModels() }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request): Promise<OpenAIModel> => {
    const m = listModels().find((x) => x.id === request.params.model);
    if (!m) throw new WestfallError('not_found', `the model "${request.params.model}" is not loaded`);
    return m;
  });

  /** Streams a generation as SSE; `frame` turns text (or the end) into a chunk object. */
  const pump = async (
    sse: SseStream,
    gen: ManagedGeneration,
    frame: (text: string | null, finish: FinishReason, result: ManagedResult | null) => object,
    includeUsage: boolean,
    usageFrame: (r: ManagedResult) => object,
  ) => {
    try {
      for await (const chunk of gen) {
        if (chunk.text) sse.send(frame(chunk.text, null, null));
      }
      const r = await gen.result;
      if (gen.serverAbortReason) throw gen.serverAbortReason;
      if (sse.closed) return;
      sse.send(frame(null, finishReason(r.stopReason), includeUsage ? null : r));
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
    const clientGone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) clientGone.abort();
    };
    reply.raw.on('close', onClose);
    const tools = body.tools ?? undefined;
    const gen = await ctx.manager.chat({
      messages: toTemplateMessages(body.messages),
      params: chatParams(body),
      ...(tools && tools.length > 0 ? { tools } : {}),
      signal: clientGone.signal,
    });
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = now();
    if (!body.stream) {
      try {
        const r = await gen.result;
        if (gen.serverAbortReason) throw gen.serverAbortReason;
        const out: ChatCompletion = {
          id,
          object: 'chat.completion',
          created,
          model: gen.modelId,
          choices: [{ index: 0, message: { role: 'assistant', content: r.text, refusal: null }, logprobs: null, finish_reason: finishReason(r.stopReason) }],
          usage: openAIUsage(r),
          system_fingerprint: fingerprint,
        };
        return { ...out, timings: r.timings };
      } finally {
        reply.raw.off('close', onClose);
      }
    }
    const sse = openSse(reply, clientGone);
    const base = { id, object: 'chat.completion.chunk' as const, created, model: gen.modelId, system_fingerprint: fingerprint };
    sse.send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] } satisfies ChatCompletionChunk);
    ctx.streams.track(
      pump(
        sse,
        gen,
        (text, finish, r) => ({
          ...base,
          choices: [{ index: 0, delta: text !== null ? { content: text } : {}, logprobs: null, finish_reason: finish }],
          ...(r ? { usage: openAIUsage(r), timings: r.timings } : {}),
        }),
        body.stream_options?.include_usage === true,
        (r) => ({ ...base, choices: [], usage: openAIUsage(r), timings: r.timings }),
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
    const gen = await ctx.manager.complete({ prompt, params: toParams(body, body.max_tokens), signal: clientGone.signal });
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
    ctx.streams.track(
      pump(
        sse,
        gen,
        (text, finish, r) => ({
          ...base,
          choices: [{ index: 0, text: text ?? '', logprobs: null, finish_reason: finish }],
          ...(r ? { usage: openAIUsage(r), timings: r.timings } : {}),
        }),
        body.stream_options?.include_usage === true,
        (r) => ({ ...base, choices: [], usage: openAIUsage(r), timings: r.timings }),
      ),
    );
    return reply;
  });

  app.post('/v1/embeddings', async (request): Promise<EmbeddingList> => {
    const body = parseWith(embeddingRequestSchema, request.body);
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const { embeddings, promptTokens, modelId } = await ctx.manager.embed(inputs);
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
