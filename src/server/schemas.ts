// zod schemas for every request and response of the HTTP API and for the WebSocket protocol. The
// renderer imports these (and the inferred types) so both sides agree on one definition.
import { z } from 'zod';
import { checkGrammar, checkJsonSchema, refineWith } from '../engine/grammar-check.js';

// ---------------------------------------------------------------------------------------------------
// Shared pieces

export const requestIdSchema = z.string().min(1, 'id must not be empty').max(128, 'id must be at most 128 characters');

/** A model's name as GET /v1/models lists it. */
export const modelNameSchema = z.string().min(1, 'model must not be empty').max(256, 'model must be at most 256 characters');

/**
 * How long a local model stays loaded after this request, in seconds or as Ollama writes it ("5m", "30s",
 * "1h"); -1 (or any negative): until unloaded; 0: unloaded as soon as it is idle.
 */
export const keepAliveSchema = z
  .union([
    z.number().int().min(-1).max(365 * 24 * 3600),
    z.string().regex(/^(-1|\d{1,7}(ms|s|m|h)?)$/, 'keep_alive must be seconds or a duration such as 30s, 5m, 1h; -1 keeps the model loaded'),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v;
    if (v === '-1') return -1;
    const m = /^(\d+)(ms|s|m|h)?$/.exec(v)!;
    const n = Number(m[1]);
    const unit = m[2] ?? 's';
    return unit === 'ms' ? Math.ceil(n / 1000) : unit === 'm' ? n * 60 : unit === 'h' ? n * 3600 : n;
  });

export const chatRoleSchema = z.enum(['system', 'user', 'assistant', 'tool']);

/** A chat message of the native API. */
export const chatMessageSchema = z
  .object({
    role: chatRoleSchema,
    content: z.string().max(4_000_000),
    name: z.string().max(256).optional(),
  })
  .strict();
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const messagesSchema = z.array(chatMessageSchema).min(1, 'at least one message is required').max(10_000);

/** An OpenAI function tool; rendered into the prompt with the model's own tool format. */
export const toolSchema = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().min(1).max(256),
        description: z.string().optional(),
        // Tool schemas become grammars too (ours in openai-tools.ts, or the chat template's).
        parameters: z.record(z.string(), z.unknown()).superRefine(refineWith(checkJsonSchema)).optional(),
        strict: z.boolean().nullish(),
      })
      .loose(),
  })
  .loose();
export type Tool = z.infer<typeof toolSchema>;

/** Sampling and stopping parameters of the native API (all optional; the server's defaults apply). */
export const generationParamsSchema = z
  .object({
    temperature: z.number().min(0).max(10).optional(),
    topP: z.number().gt(0).max(1).optional(),
    topK: z.number().int().min(0).optional(),
    minP: z.number().min(0).max(1).optional(),
    maxTokens: z.number().int().min(1).max(1 << 20).optional(),
    stop: z.array(z.string().min(1)).max(16).optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    repeatPenalty: z.number().gt(0).max(10).optional(),
    repeatLastN: z.number().int().min(0).optional(),
    presencePenalty: z.number().min(-10).max(10).optional(),
    frequencyPenalty: z.number().min(-10).max(10).optional(),
    // Refused here, before the request queues, rather than in the engine: some grammars and schemas hang or
    // abort llama.cpp (engine/grammar-check.ts), and the chat template may convert a schema itself.
    jsonSchema: z.record(z.string(), z.unknown()).superRefine(refineWith(checkJsonSchema)).optional(),
    grammar: z.string().max(1_000_000).superRefine(refineWith(checkGrammar)).optional(),
    ignoreEos: z.boolean().optional(),
    // false: evaluate the whole prompt (no reuse of any cache) and save no state; for like-for-like timing.
    cachePrompt: z.boolean().optional(),
  })
  .strict()
  .refine((p) => !(p.grammar && p.jsonSchema), { message: 'give either grammar or jsonSchema, not both', path: ['grammar'] });
export type GenerationParams = z.infer<typeof generationParamsSchema>;

export const stopReasonSchema = z.enum(['eos', 'stop_sequence', 'max_tokens', 'context_full', 'aborted']);
export type StopReason = z.infer<typeof stopReasonSchema>;

export const usageSchema = z.object({
  promptTokens: z.number().int(),
  reusedPromptTokens: z.number().int(),
  evaluatedPromptTokens: z.number().int(),
  restoredPromptTokens: z.number().int(),
  copiedPromptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
});
export type Usage = z.infer<typeof usageSchema>;

export const timingsSchema = z.object({
  /** Time spent waiting in the queue for a free sequence. */
  queueMs: z.number(),
  promptMs: z.number(),
  generationMs: z.number(),
  timeToFirstTokenMs: z.number(),
  promptTokensPerSecond: z.number(),
  generationTokensPerSecond: z.number(),
});
export type Timings = z.infer<typeof timingsSchema>;

export const errorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

/** Every error response of the native API (/health, /api, /metrics, unknown routes). */
export const errorBodySchema = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Error responses of /v1 (OpenAI's shape). */
export const openAIErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAIErrorBody = z.infer<typeof openAIErrorBodySchema>;

// ---------------------------------------------------------------------------------------------------
// Health, system, model status

export const modelStateSchema = z.enum(['none', 'loading', 'ready', 'error']);
export type ModelState = z.infer<typeof modelStateSchema>;

export const modelSummarySchema = z.object({
  id: z.string(),
  path: z.string(),
  name: z.string().nullable(),
  architecture: z.string(),
  parameterCount: z.number(),
  fileSizeBytes: z.number(),
  contextLength: z.number(),
  embeddingLength: z.number(),
  hasChatTemplate: z.boolean(),
});
export type ModelSummary = z.infer<typeof modelSummarySchema>;

export const modelStatusSchema = z.object({
  state: modelStateSchema,
  /** The loaded model (ready), or the one being loaded (loading) or that failed (error). */
  model: modelSummarySchema.nullable(),
  path: z.string().nullable(),
  /** Load progress 0..1 while loading. */
  progress: z.number().nullable(),
  error: errorInfoSchema.nullable(),
  context: z
    .object({ contextSize: z.number(), contextSizePerSequence: z.number(), sequences: z.number(), threads: z.number() })
    .nullable(),
  loadedAt: z.string().nullable(),
});
export type ModelStatus = z.infer<typeof modelStatusSchema>;

export const schedulerStatsSchema = z.object({
  capacity: z.number(),
  running: z.number(),
  queued: z.number(),
  queueLimit: z.number(),
});
export type SchedulerStats = z.infer<typeof schedulerStatsSchema>;

export const healthResponseSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  uptimeSeconds: z.number(),
  model: z.object({ state: modelStateSchema }),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const readyResponseSchema = z.object({
  status: z.literal('ready'),
  model: modelSummarySchema,
  scheduler: schedulerStatsSchema,
});
export type ReadyResponse = z.infer<typeof readyResponseSchema>;

export const systemResponseSchema = z.object({
  version: z.string(),
  engine: z.object({
    backend: z.string(),
    llamaCppVersion: z.string(),
    cpuFeatures: z.string(),
    gpuOffload: z.boolean(),
    mmap: z.boolean(),
    devices: z.array(
      z.object({ name: z.string(), description: z.string(), type: z.string(), memoryFree: z.number(), memoryTotal: z.number() }),
    ),
  }),
  memory: z.object({
    totalBytes: z.number(),
    freeBytes: z.number(),
    process: z.object({ rssBytes: z.number(), heapUsedBytes: z.number(), externalBytes: z.number() }),
  }),
  cpu: z.object({ model: z.string(), cores: z.number() }),
  platform: z.object({ os: z.string(), arch: z.string(), node: z.string() }),
  model: modelStatusSchema,
  scheduler: schedulerStatsSchema,
  /** Workers models are split over (docs/rpc.md), with what each offers and holds. */
  workers: z.array(
    z.object({
      endpoint: z.string(),
      reachable: z.boolean(),
      inUse: z.boolean(),
      version: z.string().nullable(),
      memoryFree: z.number().nullable(),
      memoryTotal: z.number().nullable(),
      layers: z.number().nullable(),
      error: z.object({ code: z.string(), message: z.string() }).nullable(),
      checkedAt: z.string().nullable(),
    }),
  ),
});
export type SystemResponse = z.infer<typeof systemResponseSchema>;

// ---------------------------------------------------------------------------------------------------
// POST /api/llm/chat

/**
 * Thinking, for models that think: `enabled` false switches it off where the template can (elsewhere a
 * budget of 0 ends it at once); `budget` caps it in tokens; `format` 'none' leaves it in the answer.
 */
export const thinkingSchema = z
  .object({
    enabled: z.boolean().optional(),
    budget: z.number().int().min(0).max(1 << 20).nullable().optional(),
    format: z.enum(['none', 'auto', 'deepseek', 'deepseek-legacy']).optional(),
  })
  .strict();
export type ThinkingOptions = z.infer<typeof thinkingSchema>;

/**
 * When the conversation does not fit: 'refuse' (the default) answers context_overflow; 'drop_oldest'
 * leaves the oldest whole turns out of what the model sees (never the system prompt or the last question),
 * keeping room for the reply, and says how many messages it left out (`droppedMessages`).
 */
export const contextOverflowSchema = z.enum(['refuse', 'drop_oldest']);
/** At most this many tokens of history for this request (below the model's window; e.g. a chat's own limit). */
export const contextTokensSchema = z.number().int().min(64).max(1 << 20);

export const chatRequestSchema = z
  .object({
    /** The model to answer (GET /v1/models); absent: the default model. */
    model: modelNameSchema.optional(),
    keepAlive: keepAliveSchema.optional(),
    messages: messagesSchema,
    params: generationParamsSchema.optional(),
    tools: z.array(toolSchema).max(128).optional(),
    thinking: thinkingSchema.optional(),
    /** The app's conversation this chat belongs to (its saved KV state is removed with it). */
    conversationId: z.string().min(1).max(100).optional(),
    contextOverflow: contextOverflowSchema.optional(),
    contextTokens: contextTokensSchema.optional(),
  })
  .strict();
export type ChatRequest = z.infer<typeof chatRequestSchema>;

export const chatResponseSchema = z.object({
  id: z.string(),
  model: z.string(),
  message: z.object({ role: z.literal('assistant'), content: z.string(), reasoning: z.string().optional() }),
  /** Set when the model's output did not follow its format (it is then returned as plain content). */
  warning: z.string().optional(),
  stopReason: stopReasonSchema,
  usage: usageSchema,
  timings: timingsSchema,
  /** With contextOverflow 'drop_oldest': how many of the oldest messages the model did not see. */
  droppedMessages: z.number().int().optional(),
});
export type ChatResponse = z.infer<typeof chatResponseSchema>;

/** POST /api/llm/tokens: how much of the context window these messages take, as a chat request would send them. */
export const tokenCountRequestSchema = z
  .object({
    /** Count with this model's template and window when it is loaded (else the default model's). */
    model: modelNameSchema.optional(),
    messages: z.array(chatMessageSchema).max(10_000),
    tools: z.array(toolSchema).max(128).optional(),
    thinking: thinkingSchema.optional(),
    /** The reply's token limit (room is kept for it when older messages are dropped). */
    maxTokens: z.number().int().min(1).max(1 << 20).optional(),
    contextTokens: contextTokensSchema.optional(),
  })
  .strict();
export type TokenCountRequest = z.infer<typeof tokenCountRequestSchema>;

export const tokenCountResponseSchema = z.object({
  /** The prompt's tokens, rendered with the model's template and tokenizer. */
  promptTokens: z.number().int(),
  /** The window of one conversation (the model's per-sequence context, or the smaller contextTokens). */
  contextTokens: z.number().int(),
  /** Kept free for the reply when older messages are dropped. */
  reserveTokens: z.number().int(),
  /** How many of the oldest messages 'drop_oldest' would leave out (0: everything fits). */
  droppedMessages: z.number().int(),
  /** The prompt after dropping (what the model would see). */
  keptTokens: z.number().int(),
});
export type TokenCountResponse = z.infer<typeof tokenCountResponseSchema>;

// ---------------------------------------------------------------------------------------------------
// WebSocket /api/llm/stream
//
// client → server: {type:'chat', id, messages, params?, tools?} starts a generation under the client's id
//                  (unique among the socket's requests in flight); {type:'cancel', id} stops it.
// server → client: {type:'token', id, text} for each piece of answer text, {type:'reasoning', id, text}
//                  for each piece of thinking (models that think; see `thinking`); then exactly one of
//                  {type:'done', id, usage, timings, stopReason, droppedMessages?} (stopReason 'aborted' after a cancel) or
//                  {type:'error', id, error:{code, message, details?}}. An error without id concerns the
//                  socket (a message that is not JSON or has no valid id). On shutdown every request in
//                  flight gets an error with code 'shutting_down' and the socket closes with 1001.
// Several requests may be in flight on one socket; their messages interleave, told apart by id.

export const WS_SUBPROTOCOL = 'westfall.v1';
/** Browsers cannot set headers on a WebSocket; they may pass the token as the subprotocol `bearer.<token>`. */
export const WS_TOKEN_PROTOCOL_PREFIX = 'bearer.';

export const wsChatMessageSchema = z
  .object({
    type: z.literal('chat'),
    id: requestIdSchema,
    /** The model to answer (GET /v1/models); absent: the default model. */
    model: modelNameSchema.optional(),
    keepAlive: keepAliveSchema.optional(),
    messages: messagesSchema,
    params: generationParamsSchema.optional(),
    tools: z.array(toolSchema).max(128).optional(),
    thinking: thinkingSchema.optional(),
    conversationId: z.string().min(1).max(100).optional(),
    contextOverflow: contextOverflowSchema.optional(),
    contextTokens: contextTokensSchema.optional(),
  })
  .strict();
export const wsCancelMessageSchema = z.object({ type: z.literal('cancel'), id: requestIdSchema }).strict();
export const wsClientMessageSchema = z.discriminatedUnion('type', [wsChatMessageSchema, wsCancelMessageSchema]);
export type WsChatMessage = z.infer<typeof wsChatMessageSchema>;
export type WsCancelMessage = z.infer<typeof wsCancelMessageSchema>;
export type WsClientMessage = z.infer<typeof wsClientMessageSchema>;

export const wsTokenMessageSchema = z.object({ type: z.literal('token'), id: requestIdSchema, text: z.string() });
export const wsReasoningMessageSchema = z.object({ type: z.literal('reasoning'), id: requestIdSchema, text: z.string() });
export const wsDoneMessageSchema = z.object({
  type: z.literal('done'),
  id: requestIdSchema,
  usage: usageSchema,
  timings: timingsSchema,
  stopReason: stopReasonSchema,
  /** Set when the model's output did not follow its format (it was then sent as plain text). */
  warning: z.string().optional(),
  /** With contextOverflow 'drop_oldest': how many of the oldest messages the model did not see. */
  droppedMessages: z.number().int().optional(),
});
export const wsErrorMessageSchema = z.object({
  type: z.literal('error'),
  id: requestIdSchema.optional(),
  error: errorInfoSchema,
});
export const wsServerMessageSchema = z.discriminatedUnion('type', [wsTokenMessageSchema, wsReasoningMessageSchema, wsDoneMessageSchema, wsErrorMessageSchema]);
export type WsTokenMessage = z.infer<typeof wsTokenMessageSchema>;
export type WsReasoningMessage = z.infer<typeof wsReasoningMessageSchema>;
export type WsDoneMessage = z.infer<typeof wsDoneMessageSchema>;
export type WsErrorMessage = z.infer<typeof wsErrorMessageSchema>;
export type WsServerMessage = z.infer<typeof wsServerMessageSchema>;

// ---------------------------------------------------------------------------------------------------
// OpenAI-compatible /v1. Requests are loose (unknown fields are ignored, as OpenAI clients send many);
// the fields we use are validated.

const nullishInt = (min: number, max: number) => z.number().int().min(min).max(max).nullish();
const stopField = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]).nullish();

const openAIContentPartSchema = z.object({ type: z.string(), text: z.string().optional() }).loose();
export const openAIMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(openAIContentPartSchema)]).nullish(),
    name: z.string().optional(),
    // An assistant turn's thinking (llama-server's field); the template decides whether it is shown again.
    reasoning_content: z.string().nullish(),
    tool_calls: z.array(z.unknown()).nullish(),
    tool_call_id: z.string().optional(),
  })
  .loose();
export type OpenAIMessage = z.infer<typeof openAIMessageSchema>;

const samplingFields = {
  model: z.string().optional(),
  // Ollama's: how long the model stays loaded after this request.
  keep_alive: keepAliveSchema.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().min(0).max(0xffffffff).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repeat_penalty: z.number().gt(0).max(10).nullish(),
  // llama-server's extension, so benchmarks and tools written for it work unchanged.
  ignore_eos: z.boolean().nullish(),
  // llama-server's: false evaluates the whole prompt, reusing no cache (for measurements).
  cache_prompt: z.boolean().nullish(),
  stop: stopField,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).loose().nullish(),
  n: z.literal(1, { error: 'only n = 1 is supported' }).nullish(),
  user: z.string().nullish(),
};

export const chatCompletionRequestSchema = z
  .object({
    ...samplingFields,
    messages: z.array(openAIMessageSchema).min(1, 'at least one message is required'),
    max_tokens: nullishInt(1, 1 << 20),
    max_completion_tokens: nullishInt(1, 1 << 20),
    response_format: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('text') }).loose(),
        z.object({ type: z.literal('json_object') }).loose(),
        z
          .object({
            type: z.literal('json_schema'),
            json_schema: z
              .object({
                name: z.string(),
                schema: z.record(z.string(), z.unknown()).superRefine(refineWith(checkJsonSchema)).optional(),
                strict: z.boolean().nullish(),
              })
              .loose(),
          })
          .loose(),
      ])
      .nullish(),
    tools: z.array(toolSchema).max(128).nullish(),
    tool_choice: z.unknown().optional(),
    parallel_tool_calls: z.boolean().nullish(),
    logprobs: z.literal(false, { error: 'logprobs are not supported' }).nullish(),
    // llama-server's extensions for thinking models, with its names and defaults.
    reasoning_format: z.enum(['none', 'auto', 'deepseek', 'deepseek-legacy']).nullish(),
    chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullish(),
    /** Thinking tokens at most (-1: no limit); `thinking_budget_tokens` is accepted too. */
    reasoning_budget_tokens: z.number().int().min(-1).max(1 << 20).nullish(),
    thinking_budget_tokens: z.number().int().min(-1).max(1 << 20).nullish(),
    reasoning_budget_message: z.string().max(1024).nullish(),
  })
  .loose();
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export const completionRequestSchema = z
  .object({
    ...samplingFields,
    prompt: z.union([z.string(), z.array(z.string()).length(1, 'only one prompt per request is supported')]),
    max_tokens: nullishInt(1, 1 << 20),
    echo: z.boolean().nullish(),
    logprobs: z.null({ error: 'logprobs are not supported' }).optional(),
  })
  .loose();
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export const embeddingRequestSchema = z
  .object({
    model: z.string().optional(),
    keep_alive: keepAliveSchema.nullish(),
    input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(256)], {
      error: 'input must be a non-empty string or an array of non-empty strings',
    }),
    encoding_format: z.enum(['float', 'base64']).nullish(),
    user: z.string().nullish(),
  })
  .loose();
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

/** A function call in a reply: OpenAI sends the arguments as a JSON string. */
export const wireToolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const finishReasonSchema = z.enum(['stop', 'length', 'tool_calls', 'content_filter']).nullable();

export const openAIUsageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

export const chatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal('assistant'),
        content: z.string().nullable(),
        reasoning_content: z.string().optional(),
        refusal: z.null(),
        tool_calls: z.array(wireToolCallSchema).optional(),
      }),
      logprobs: z.null(),
      finish_reason: finishReasonSchema,
    }),
  ),
  usage: openAIUsageSchema,
  system_fingerprint: z.string(),
  /** Set when the model's output did not follow its format (it is then returned as plain content). */
  warning: z.string().optional(),
});
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({
        role: z.literal('assistant').optional(),
        content: z.string().nullable().optional(),
        reasoning_content: z.string().optional(),
        // The first delta of a call carries its id and name, the later ones argument fragments only.
        tool_calls: z
          .array(
            z.object({
              index: z.number().int(),
              id: z.string().optional(),
              type: z.literal('function').optional(),
              function: z.object({ name: z.string().optional(), arguments: z.string().optional() }),
            }),
          )
          .optional(),
      }),
      logprobs: z.null(),
      finish_reason: finishReasonSchema,
    }),
  ),
  usage: openAIUsageSchema.nullable().optional(),
});
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

export const completionSchema = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(z.object({ index: z.number().int(), text: z.string(), logprobs: z.null(), finish_reason: finishReasonSchema })),
  usage: openAIUsageSchema.optional(),
});
export type Completion = z.infer<typeof completionSchema>;

export const embeddingListSchema = z.object({
  object: z.literal('list'),
  model: z.string(),
  data: z.array(z.object({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type EmbeddingList = z.infer<typeof embeddingListSchema>;

/** Our extension of a /v1/models entry: where the model runs and whether it is loaded. */
export const modelEntrySchema = z.object({
  id: z.string(),
  engine: z.string(),
  kind: z.enum(['local', 'remote']),
  location: z.string(),
  state: modelStateSchema,
  progress: z.number().nullable().optional(),
  default: z.boolean().optional(),
  path: z.string().optional(),
  fileSizeBytes: z.number().optional(),
  memoryBytes: z.number().nullable().optional(),
  contextSize: z.number().nullable().optional(),
  gpuLayers: z.number().nullable().optional(),
  loadedAt: z.string().nullable().optional(),
  lastUsedAt: z.string().nullable().optional(),
  expiresAt: z.string().nullable().optional(),
  error: z.object({ code: z.string(), message: z.string() }).nullable().optional(),
});

export type ModelListEntry = z.infer<typeof modelEntrySchema>;

export const openAIModelSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  /** 'westfall' for this computer's models; the provider's id for a remote server's. */
  owned_by: z.string(),
  westfall: modelEntrySchema.optional(),
});
export const modelListSchema = z.object({ object: z.literal('list'), data: z.array(openAIModelSchema) });
export type OpenAIModel = z.infer<typeof openAIModelSchema>;
export type ModelList = z.infer<typeof modelListSchema>;
