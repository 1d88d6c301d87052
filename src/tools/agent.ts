// The tool-calling chat loop. Each step renders the conversation with the model's chat template; the
// tools are offered in the model's own format (llama.cpp's chat layer picks it and constrains calls with
// its grammar), or in JSON mode for templates without tool support (tool-format.ts). The reply is read
// as it streams (reply-reader.ts): thinking and answer text go out as events, calls are validated with
// the tools' zod schemas and run — read-only ones together, each one that writes data after the user
// confirms through `confirm` — and the results are fed back as `tool` messages, up to `maxSteps`
// generations; the last step may only answer. The conversation (thinking, calls and results included) is
// saved in the conversation store.
import { formatGenerateParams, type ChatDelta, type ChatFormat, type ChatFormatOptions, type Context, type Model, type ReasoningBudget } from '../engine/index.js';
import { jsonSchemaToGrammar } from '../engine/index.js';
import { WestfallError } from '../errors.js';
import type { ConversationStore, NewMessage, StoredToolCall } from '../storage/index.js';
import { ToolError } from './errors.js';
import { describeCall } from './confirmations.js';
import { toolErrorResult, type ArgumentProblem, type JsonSchema, type OpenAITool, type ToolChoices, type ToolRegistry } from './registry.js';
import { ReplyReader } from './reply-reader.js';
import {
  buildJsonModeGrammar,
  chooseToolMode,
  nativeToolOptions,
  toJsonModeMessages,
  toNativeMessages,
  type SchemaToGrammar,
  type ToolChoice,
  type ToolMode,
} from './tool-format.js';

// ---------------------------------------------------------------------------------------------------
// Messages and events

export type AgentRole = 'system' | 'user' | 'assistant' | 'tool';

/** A message as chat templates take it (OpenAI shape: tool_calls, tool_call_id, reasoning_content). */
export interface TemplateMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

export interface AgentMessage {
  role: AgentRole;
  content: string;
  /** Assistant: its thinking, kept apart from the answer. */
  reasoning?: string;
  /** Assistant: how long it thought, in milliseconds. */
  thinkingMs?: number;
  /** Assistant: the calls it made. */
  toolCalls?: ToolCall[];
  /** Tool: the call this result answers. */
  toolCallId?: string;
  /** Tool: the tool's name. */
  name?: string;
}

export interface ConfirmationRequest {
  /** Id the app answers with. */
  id: string;
  call: ToolCall;
  tool: { name: string; description: string; title: string; source: string };
  conversationId?: string;
  /** The call in plain words: "Start a timer on project Garden?" (or "Use <title> from <source>?"). */
  sentence: string;
  /** The sentence's template, for a form that re-fills it while the user edits (null: generic). */
  template: string | null;
  /** The arguments' JSON schema: the form is generated from it. */
  parameters: JsonSchema;
  /** Values from the user's data the form offers for some arguments. */
  choices: ToolChoices;
  /** Arguments of which one must be given. */
  requiredAny: string[][];
  /** What is missing or wrong in the model's arguments: fields for the user to fill before allowing. */
  problems: ArgumentProblem[];
}

/** The app's answer; `arguments`, when given, are the user's edit and replace the model's. */
export interface ConfirmationAnswer {
  approved: boolean;
  arguments?: Record<string, unknown>;
}

/** Why a reply came back empty (no answer and no call, thinking aside). */
export type EmptyReason = 'thinking_used_all_tokens' | 'max_tokens' | 'ended';

export type AgentStopReason = 'answer' | 'step_limit' | 'aborted' | 'max_tokens' | 'context_full';

export interface AgentUsage {
  promptTokens: number;
  completionTokens: number;
  generations: number;
}

export interface AgentResult {
  conversationId: string | null;
  /** The final answer text. */
  answer: string;
  /** The messages this run added (the input messages, then assistant and tool messages). */
  messages: AgentMessage[];
  steps: number;
  toolCalls: number;
  /** native: the model's own tool format; json: JSON mode (templates without tool support). */
  mode: ToolMode;
  stopReason: AgentStopReason;
  usage: AgentUsage;
  /** The last generation produced neither an answer nor a call (after thinking is set apart): why. */
  empty?: EmptyReason;
}

export type AgentEvent =
  | { type: 'token'; step: number; text: string }
  /** Thinking text, as it streams (shown apart from the answer). */
  | { type: 'reasoning'; step: number; text: string }
  | { type: 'tool_call'; step: number; call: ToolCall; mutates: boolean; title: string }
  | { type: 'confirmation_required'; step: number; confirmation: ConfirmationRequest }
  /** `arguments`: what ran (the user's edit where they changed the model's). */
  | { type: 'tool_result'; step: number; callId: string; name: string; ok: boolean; result: unknown; arguments: unknown }
  /** Output that tried to call a tool but could not be read (cut off, bad JSON); the model is told and retries. */
  | { type: 'invalid_tool_call'; step: number; raw: string; error: string }
  /** The output did not follow the model's format and was taken as plain text. */
  | { type: 'format_warning'; step: number; message: string }
  | { type: 'done'; result: AgentResult };

// ---------------------------------------------------------------------------------------------------
// Backends: the engine directly, or the server's model manager (its scheduler and queue). Both render
// the messages with the model's template through tokenizeChat, so the text of a message or of a tool
// result (a payee from a bank export, a track title) is tokenized as plain text and can never become a
// special token that opens a new turn.

export interface AgentGenerateRequest {
  messages: TemplateMessage[];
  /** Tools, tool choice and thinking, for the template (native mode). */
  format: ChatFormatOptions;
  reasoningBudget?: ReasoningBudget | null;
  /** JSON mode's grammar (replaces the format's own constraints). */
  grammar?: string;
  maxTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** The conversation the reply belongs to (its saved KV state is removed with it). */
  cacheTag?: string;
  signal?: AbortSignal;
}

/** `deltas`: a remote server's reply piece, already read into content, thinking and call pieces. */
export interface AgentGeneration extends AsyncIterable<{ text: string; deltas?: ChatDelta[] }> {
  /** The chat format the reply is in. */
  readonly chatFormat: ChatFormat | null;
  result: Promise<{ text: string; stopReason: string; usage: { promptTokens: number; completionTokens: number } }>;
}

export interface AgentBackend {
  /**
   * The model whose chat template renders the conversation; null for a remote provider's model, whose
   * server renders it (tools then go as OpenAI's native `tools` / `tool_calls`).
   */
  model(): Model | null;
  generate(request: AgentGenerateRequest): Promise<AgentGeneration>;
}

/** Runs on an engine Context (its model renders the template). */
export function contextBackend(ctx: Context): AgentBackend {
  return {
    model: () => ctx.model,
    generate: async (r) => {
      const chat = ctx.model.tokenizeChat(r.messages, r.format);
      const format = r.grammar ? { grammar: r.grammar } : formatGenerateParams(chat.chatFormat, r.reasoningBudget);
      const gen = ctx.generate(chat.tokens, {
        maxTokens: r.maxTokens,
        temperature: r.temperature,
        stop: chat.stop.slice(0, 16),
        ...format,
        ...(r.topK !== undefined ? { topK: r.topK } : {}),
        ...(r.topP !== undefined ? { topP: r.topP } : {}),
        ...(r.seed !== undefined ? { seed: r.seed } : {}),
        ...(r.cacheTag ? { cacheTag: r.cacheTag } : {}),
        ...(r.signal ? { signal: r.signal } : {}),
      });
      return Object.assign(gen, { chatFormat: chat.chatFormat });
    },
  };
}

/** What the agent needs of the server's ModelManager (accepted structurally). */
export interface ManagerLike {
  readonly model: Model | null;
  chat(job: {
    messages: TemplateMessage[];
    format?: ChatFormatOptions;
    reasoningBudget?: ReasoningBudget | null;
    grammar?: string | null;
    params?: { maxTokens?: number; temperature?: number; topK?: number; topP?: number; seed?: number };
    cacheTag?: string;
    signal?: AbortSignal;
  }): Promise<AgentGeneration & { serverAbortReason?: unknown }>;
}

/** Runs through the server's model manager, so agent steps share its queue with every other request. */
export function managerBackend(manager: ManagerLike | null | undefined): AgentBackend {
  return {
    model: () => {
      const m = manager?.model ?? null;
      if (!manager || !m) throw new WestfallError('model_not_loaded', 'no model is loaded; load one to chat with tools');
      return m;
    },
    generate: async (r) => {
      if (!manager) throw new WestfallError('model_not_loaded', 'no model is loaded; load one to chat with tools');
      return manager.chat({
        messages: r.messages,
        format: r.format,
        ...(r.reasoningBudget ? { reasoningBudget: r.reasoningBudget } : {}),
        ...(r.grammar ? { grammar: r.grammar } : {}),
        params: {
          maxTokens: r.maxTokens,
          temperature: r.temperature,
          ...(r.topK !== undefined ? { topK: r.topK } : {}),
          ...(r.topP !== undefined ? { topP: r.topP } : {}),
          ...(r.seed !== undefined ? { seed: r.seed } : {}),
        },
        ...(r.cacheTag ? { cacheTag: r.cacheTag } : {}),
        ...(r.signal ? { signal: r.signal } : {}),
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Options

export interface AgentOptions {
  backend: AgentBackend;
  registry: ToolRegistry;
  /** New messages for this turn (usually one user message). */
  messages: AgentMessage[];
  /** Earlier messages, when no store/conversation supplies them. */
  history?: AgentMessage[];
  /** Saves the conversation; with `conversationId` its messages are loaded first. */
  store?: ConversationStore;
  conversationId?: string;
  /** Only these tools are offered (default: every tool of the registry). */
  tools?: string[];
  /** 'auto' (default): the model's own tool format where its template has one, else JSON mode. */
  mode?: ToolMode | 'auto';
  /** Choice for the first step (default 'auto'); later steps are 'auto', the last one 'none'. */
  toolChoice?: ToolChoice;
  /** Generations per run (default 5). */
  maxSteps?: number;
  /**
   * Answers confirmation requests for tools that write data (true/false, or an answer with the
   * arguments the user edited); without it such calls are declined.
   */
  confirm?: (request: ConfirmationRequest) => Promise<boolean | ConfirmationAnswer>;
  systemPrompt?: string;
  params?: { maxTokens?: number; temperature?: number; topK?: number; topP?: number; seed?: number };
  /**
   * Thinking, for models that think: off (where the template can switch it off; elsewhere a budget of
   * 0 ends it at once), and a cap in tokens per step.
   */
  thinking?: { enabled?: boolean; budget?: number | null };
  /** Longest tool result (JSON characters) fed back to the model (default 8000). */
  maxResultChars?: number;
  signal?: AbortSignal;
  /** Converts JSON schemas to GBNF (default: llama.cpp's converter in the addon). */
  schemaToGrammar?: SchemaToGrammar;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are Westfall, a private assistant running on the user\'s own computer. You can use tools to read and change the ' +
  "user's finances, time tracking, password vault and music library. Call a tool when it helps; otherwise answer " +
  'directly and concisely. Passwords are never shown to you; to give one to the user, ask the app to copy it.';

// ---------------------------------------------------------------------------------------------------
// Rendering

export function renderMessages(history: readonly AgentMessage[], mode: ToolMode, system: string, registry: ToolRegistry): TemplateMessage[] {
  if (mode === 'json') return toJsonModeMessages(history, registry, system);
  return toNativeMessages([{ role: 'system', content: system }, ...history]);
}

function resultText(result: unknown, max: number): string {
  let s: string;
  try {
    s = JSON.stringify(result ?? null);
  } catch {
    s = JSON.stringify({ error: { code: 'internal_error', message: 'the result could not be serialized' } });
  }
  return s.length > max ? `${s.slice(0, max)}… (truncated, ${s.length} characters in all)` : s;
}

/**
 * The thinking budget of one step: the asked budget, but never more than maxTokens less room for the
 * answer (a quarter of maxTokens, at most 256 tokens).
 */
export function thinkingCap(maxTokens: number, budget: number | null): number {
  const cap = Math.max(0, maxTokens - Math.min(256, Math.floor(maxTokens / 4)));
  return budget === null ? cap : Math.min(budget, cap);
}

function toStored(m: AgentMessage): NewMessage {
  return {
    role: m.role,
    content: m.content,
    ...(m.reasoning ? { reasoning: m.reasoning } : {}),
    ...(m.thinkingMs !== undefined ? { thinkingMs: m.thinkingMs } : {}),
    ...(m.toolCalls && m.toolCalls.length > 0 ? { toolCalls: m.toolCalls.map((c): StoredToolCall => ({ id: c.id, name: c.name, arguments: c.arguments })) } : {}),
    ...(m.toolCallId !== undefined ? { toolCallId: m.toolCallId } : {}),
    ...(m.name !== undefined ? { name: m.name } : {}),
  };
}

function titleFrom(messages: readonly AgentMessage[]): string {
  const first = messages.find((m) => m.role === 'user')?.content ?? '';
  const line = first.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

// ---------------------------------------------------------------------------------------------------
// The loop

interface CallOutcome {
  call: ToolCall;
  ok: boolean;
  result: unknown;
}

/** Runs the agent; iterate the events (the generator's return value is the result, also in `done`). */
export async function* runAgent(options: AgentOptions): AsyncGenerator<AgentEvent, AgentResult, void> {
  const registry = options.tools ? options.registry.subset(options.tools) : options.registry;
  const maxSteps = options.maxSteps ?? 5;
  if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 50) throw new WestfallError('invalid_params', 'maxSteps must be 1..50');
  if (options.messages.length === 0) throw new WestfallError('invalid_params', 'give at least one message');
  const toGrammar = options.schemaToGrammar ?? jsonSchemaToGrammar;
  const maxResultChars = options.maxResultChars ?? 8000;
  const params = { maxTokens: 512, temperature: 0.3, ...options.params };
  const model = options.backend.model();
  const openAITools: OpenAITool[] = registry.openAITools();
  const mode: ToolMode = !options.mode || options.mode === 'auto' ? (model ? chooseToolMode(model, openAITools) : 'native') : options.mode;
  const system = options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const thinkingEnabled = options.thinking?.enabled ?? true;
  // Off where the template cannot switch thinking off: a budget of 0 closes the block at once.
  // And capped below maxTokens, so the answer always has room: a small model that thinks until max_tokens
  // otherwise leaves an empty reply (what "tools on cost an 11 s empty reply" was; docs/tools.md).
  const budgetTokens = thinkingEnabled ? thinkingCap(params.maxTokens, options.thinking?.budget ?? null) : 0;
  const reasoningBudget = budgetTokens === null ? null : { tokens: budgetTokens };

  // The conversation so far, and where this run's messages are saved.
  const store = options.store;
  let conversationId: string | null = null;
  const history: AgentMessage[] = [...(options.history ?? [])];
  if (store) {
    if (options.conversationId) {
      const c = store.get(options.conversationId);
      conversationId = c.id;
      for (const m of store.messages(c.id)) {
        history.push({
          role: m.role,
          content: m.content,
          ...(m.reasoning ? { reasoning: m.reasoning } : {}),
          ...(m.toolCalls ? { toolCalls: m.toolCalls } : {}),
          ...(m.toolCallId ? { toolCallId: m.toolCallId } : {}),
          ...(m.name ? { name: m.name } : {}),
        });
      }
    } else {
      conversationId = store.create({ title: titleFrom(options.messages) }).id;
    }
  }
  const added: AgentMessage[] = [];
  const save = (...msgs: AgentMessage[]) => {
    history.push(...msgs);
    added.push(...msgs);
    if (store && conversationId) store.append(conversationId, msgs.map(toStored));
  };
  save(...options.messages);

  const usage: AgentUsage = { promptTokens: 0, completionTokens: 0, generations: 0 };
  let toolCalls = 0;
  const finish = (answer: string, stopReason: AgentStopReason, steps: number): AgentResult => ({
    conversationId,
    answer,
    messages: added,
    steps,
    toolCalls,
    mode,
    stopReason,
    usage,
  });

  for (let step = 1; step <= maxSteps; step++) {
    const firstChoice = options.toolChoice ?? 'auto';
    const choice: ToolChoice = firstChoice === 'none' || step === maxSteps ? 'none' : step === 1 ? firstChoice : 'auto';
    const gen = await options.backend.generate({
      messages: renderMessages(history, mode, system, registry),
      format: {
        ...(mode === 'native' ? nativeToolOptions(registry, choice, true) : {}),
        enableThinking: thinkingEnabled,
      },
      ...(reasoningBudget ? { reasoningBudget } : {}),
      ...(mode === 'json' ? { grammar: buildJsonModeGrammar({ registry, choice, toGrammar }) } : {}),
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      ...(params.topK !== undefined ? { topK: params.topK } : {}),
      ...(params.topP !== undefined ? { topP: params.topP } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(conversationId ? { cacheTag: conversationId } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });

    // Thinking and answer text stream as they come; a call arrives whole, as a tool_call event.
    const reader = new ReplyReader(mode, gen.chatFormat);
    const started = performance.now();
    let thinkingMs: number | undefined;
    const emit = function* (deltas: ReturnType<ReplyReader['push']>): Generator<AgentEvent> {
      for (const d of deltas) {
        if (d.type === 'reasoning') {
          thinkingMs = Math.round(performance.now() - started);
          yield { type: 'reasoning', step, text: d.text };
        } else if (d.type === 'content') {
          yield { type: 'token', step, text: d.text };
        }
      }
    };
    for await (const chunk of gen) yield* emit(reader.push(chunk.text, chunk.deltas));
    const r = await gen.result;
    const serverAbort = (gen as { serverAbortReason?: unknown }).serverAbortReason;
    if (serverAbort) throw serverAbort;
    usage.promptTokens += r.usage.promptTokens;
    usage.completionTokens += r.usage.completionTokens;
    usage.generations++;

    if (r.stopReason === 'aborted') {
      const result = finish('', 'aborted', step);
      yield { type: 'done', result };
      return result;
    }
    const { reply: parsed, deltas } = reader.finish();
    yield* emit(deltas);
    if (parsed.warning) yield { type: 'format_warning', step, message: parsed.warning };
    const thought = parsed.reasoning ? { reasoning: parsed.reasoning, ...(thinkingMs !== undefined ? { thinkingMs } : {}) } : {};

    if (parsed.calls.length === 0 && parsed.invalid.length === 0) {
      const empty = parsed.content.trim() === '';
      // An empty reply is not saved as an answer (only its thinking, if any): a retry starts clean.
      if (!empty || parsed.reasoning) save({ role: 'assistant', content: parsed.content, ...thought });
      const reason: AgentStopReason =
        r.stopReason === 'max_tokens' ? 'max_tokens' : r.stopReason === 'context_full' ? 'context_full' : step === maxSteps && maxSteps > 1 ? 'step_limit' : 'answer';
      const result = finish(parsed.content, reason, step);
      if (empty) result.empty = r.stopReason === 'max_tokens' ? (parsed.reasoning ? 'thinking_used_all_tokens' : 'max_tokens') : 'ended';
      yield { type: 'done', result };
      return result;
    }

    for (const bad of parsed.invalid) yield { type: 'invalid_tool_call', step, raw: bad.raw.slice(0, 2000), error: bad.error };
    if (parsed.calls.length === 0) {
      // Only unreadable calls: say so and let the model try again (as a user turn: templates accept a
      // system message only at the start).
      save({ role: 'assistant', content: r.text.trim(), ...thought });
      save({ role: 'user', content: `Your tool call could not be read (${parsed.invalid.map((i) => i.error).join('; ')}). Reply with one valid tool call or an answer.` });
      continue;
    }

    const calls: ToolCall[] = parsed.calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments }));
    toolCalls += calls.length;
    const titles = new Map(registry.describe().map((d) => [d.name, d.title]));
    for (const call of calls) {
      yield { type: 'tool_call', step, call, mutates: registry.has(call.name) ? registry.get(call.name).mutates : false, title: titles.get(call.name) ?? call.name };
    }

    // Read-only calls run together; each call that writes data waits for its own confirmation, in order.
    const context = { caller: 'model' as const, ...(conversationId ? { conversationId } : {}), ...(options.signal ? { signal: options.signal } : {}) };
    const run = async (call: ToolCall): Promise<CallOutcome> => {
      try {
        const tool = registry.get(call.name);
        const args = registry.parseRunnable(call.name, call.arguments);
        return { call, ok: true, result: await tool.handler(args, context) };
      } catch (err) {
        // A coded error reaches the model with its code and message; anything else only as "the tool failed".
        return { call, ok: false, result: toolErrorResult(err) };
      }
    };
    const outcomes = new Map<string, CallOutcome>();
    const readOnly = calls.filter((c) => registry.has(c.name) && !registry.get(c.name).mutates);
    const parallel = Promise.all(readOnly.map(run));
    for (const call of calls) {
      if (readOnly.includes(call)) continue;
      if (!registry.has(call.name)) {
        const err = new ToolError('tool_not_found', `no tool named ${JSON.stringify(call.name)}; available: ${registry.names.join(', ')}`);
        outcomes.set(call.id, { call, ok: false, result: toolErrorResult(err) });
        continue;
      }
      // Missing or wrong arguments are not a failure yet: the user sees them as fields to fill (without
      // anyone to ask, they go back to the model as before).
      if (!options.confirm && registry.problems(call.name, call.arguments).length > 0) {
        outcomes.set(call.id, await run(call));
        continue;
      }
      const confirmation = describeCall(registry, call, conversationId ?? undefined);
      // Asked before the event goes out, so an app that answers at once finds the request pending.
      const answer = options.confirm ? options.confirm(confirmation) : Promise.resolve(false);
      answer.catch(() => {});
      yield { type: 'confirmation_required', step, confirmation };
      const given = await answer.catch(() => false);
      const decision: ConfirmationAnswer = typeof given === 'boolean' ? { approved: given } : given;
      if (!decision.approved) {
        outcomes.set(call.id, { call, ok: false, result: { error: { code: 'declined', message: 'the user did not approve this action; do not retry it unless asked' } } });
        continue;
      }
      // The user's edit is what runs, and what the conversation keeps as the call.
      if (decision.arguments !== undefined) call.arguments = decision.arguments;
      outcomes.set(call.id, await run(call));
    }
    for (const o of await parallel) outcomes.set(o.call.id, o);
    // Saved once every call is settled, so that edited arguments are the ones kept.
    save({ role: 'assistant', content: parsed.content, ...thought, toolCalls: calls });
    for (const call of calls) {
      const o = outcomes.get(call.id)!;
      yield { type: 'tool_result', step, callId: call.id, name: call.name, ok: o.ok, result: o.result, arguments: call.arguments };
      save({ role: 'tool', content: resultText(o.result, maxResultChars), toolCallId: call.id, name: call.name });
    }
    if (options.signal?.aborted) {
      const result = finish('', 'aborted', step);
      yield { type: 'done', result };
      return result;
    }
  }
  // Unreachable: the last step only admits an answer.
  const result = finish('', 'step_limit', maxSteps);
  yield { type: 'done', result };
  return result;
}

/** Runs the agent to the end and returns the result (events go to `onEvent`). */
export async function runAgentToEnd(options: AgentOptions, onEvent?: (e: AgentEvent) => void): Promise<AgentResult> {
  const it = runAgent(options);
  for (;;) {
    const n = await it.next();
    if (n.done) return n.value;
    onEvent?.(n.value);
  }
}
