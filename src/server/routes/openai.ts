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
import { parseToolChoice, planToolCalls, readReply, ReplyStream, toTemplateMessages, type ToolCallPlan } from '../openai-tools.js';
import { openSse, type SseStream } from '../sse.js';

type FinishReason = 'stop' | 'length' | 'tool_calls' | null;

export function finishReason(r: StopReason): FinishReason {
  if (r === 'eos' || r === 'stop_sequence') return 'stop';
  if (r === 'max_tokens' || r === 'context_full') return 'length';
  return null;
}

function openAIUsage(r: ManagedResult) {
  return { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens, total_tokens: r.usage.totalTokens };
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
    const tools = body.tools ?? [];
    // With tools, the reply is constrained to a call or an answer (tool_choice) and read back into
    // tool_calls; tool_choice "none" still shows the model the tools, as OpenAI does.
    const model = ctx.manager.model;
    const plan: ToolCallPlan | null = tools.length > 0 && model ? planToolCalls(model, tools, body.tool_choice, body.messages) : null;
    if (tools.length === 0) parseToolChoice(body.tool_choice, false); // "required" or a name without tools: 400
    const clientGone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) clientGone.abort();
    };
    reply.raw.on('close', onClose);
    const templateTools = plan ? plan.templateTools : tools.length > 0 ? tools : undefined;
    const gen = await ctx.manager.chat({
      messages: plan ? plan.messages : toTemplateMessages(body.messages),
      params: chatParams(body),
      ...(templateTools && templateTools.length > 0 ? { tools: templateTools } : {}),
      ...(plan?.grammar ? { grammar: plan.grammar } : {}),
      signal: clientGone.signal,
    });
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = now();
    if (!body.stream) {
      try {
        const r = await gen.result;
        if (gen.serverAbortReason) throw gen.serverAbortReason;
        const out = plan ? readReply(r.text, plan.format) : { content: r.text, toolCalls: [] };
        const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: out.content, refusal: null };
        if (out.toolCalls.length > 0) message.tool_calls = out.toolCalls;
        const completion: ChatCompletion = {
          id,
          object: 'chat.completion',
          created,
          model: gen.modelId,
          choices: [{ index: 0, message, logprobs: null, finish_reason: out.toolCalls.length > 0 ? 'tool_calls' : finishReason(r.stopReason) }],
          usage: openAIUsage(r),
          system_fingerprint: fingerprint,
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
    if (!plan) {
      // One chunk per token: everything but the text is serialized once (the JS thread shares the CPU
      // with the decode threads, so per-token work slows generation itself on small machines).
      ctx.streams.track(
        pump(sse, gen, (text, finish, r) => chunk(text !== null ? { content: text } : {}, finish, r), textTemplate(chunk({ content: MARK }, null, null)), includeUsage, usageFrame),
      );
      return reply;
    }
    const replyStream = new ReplyStream(plan.format);
    let last: ReturnType<ReplyStream['finish']> | null = null;
    ctx.streams.track(
      pump(
        sse,
        gen,
        (text, finish, r) => {
          if (text !== null) {
            const shown = replyStream.push(text);
            return shown ? chunk({ content: shown }, null, null) : null;
          }
          // `last` was set by beforeFinal, which runs first.
          return chunk({}, last && last.toolCalls.length > 0 ? 'tool_calls' : finish, r);
        },
        undefined,
        includeUsage,
        usageFrame,
        (r) => {
          // Before the final frame: the calls (complete, so one delta each) or the text still held back.
          last = replyStream.finish(r.text);
          if (last.toolCalls.length > 0) {
            return [chunk({ tool_calls: last.toolCalls.map((c, index) => ({ index, ...c })) }, null, null)];
          }
          return last.rest ? [chunk({ content: last.rest }, null, null)] : [];
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
