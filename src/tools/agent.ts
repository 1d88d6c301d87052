// The tool-calling chat loop. Each step renders the conversation with the model's chat template (tools
// offered in its own format when the template supports them), generates under a grammar that only admits
// a final answer or a call matching a tool's JSON schema, validates the calls with the tools' zod schemas,
// runs them (a call of a tool that writes data waits for the user's confirmation through `confirm`),
// feeds the results back as `tool` messages and continues, up to `maxSteps` generations; the last step
// may only answer. Everything streams as events, and the conversation, tool calls and results included,
// is saved in the conversation store.
import { randomUUID } from 'node:crypto';
import type { Context, Model } from '../engine/index.js';
import { jsonSchemaToGrammar } from '../engine/index.js';
import { WestfallError } from '../errors.js';
import type { ConversationStore, NewMessage, StoredToolCall } from '../storage/index.js';
import { ToolError } from './errors.js';
import { toolErrorResult, type OpenAITool, type ToolRegistry } from './registry.js';
import { JsonAnswerStream, parseOutput, type ParsedCall } from './tool-calls.js';
import { buildToolGrammar, type SchemaToGrammar, type ToolChoice, type ToolFormat, type ToolSchemas } from './tool-grammar.js';

// ---------------------------------------------------------------------------------------------------
// Messages and events

export type AgentRole = 'system' | 'user' | 'assistant' | 'tool';

/** A message as chat templates take it (OpenAI shape: tool_calls, tool_call_id). */
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
  tool: { name: string; description: string };
  conversationId?: string;
}

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
  format: ToolFormat;
  stopReason: AgentStopReason;
  usage: AgentUsage;
}

export type AgentEvent =
  | { type: 'token'; step: number; text: string }
  | { type: 'tool_call'; step: number; call: ToolCall; mutates: boolean }
  | { type: 'confirmation_required'; step: number; confirmation: ConfirmationRequest }
  | { type: 'tool_result'; step: number; callId: string; name: string; ok: boolean; result: unknown }
  /** Output that tried to call a tool but could not be read (cut off, bad JSON); the model is told and retries. */
  | { type: 'invalid_tool_call'; step: number; raw: string; error: string }
  | { type: 'done'; result: AgentResult };

// ---------------------------------------------------------------------------------------------------
// Backends: the engine directly, or the server's model manager (its scheduler and queue). Both render
// the messages with the model's template through tokenizeChat, so the text of a message or of a tool
// result (a payee from a bank export, a track title) is tokenized as plain text and can never become a
// special token that opens a new turn.

export interface AgentGenerateRequest {
  messages: TemplateMessage[];
  /** OpenAI-style tools, rendered by the template (template format only). */
  tools?: OpenAITool[];
  grammar?: string;
  maxTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface AgentGeneration extends AsyncIterable<{ text: string }> {
  result: Promise<{ text: string; stopReason: string; usage: { promptTokens: number; completionTokens: number } }>;
}

export interface AgentBackend {
  /** The model whose chat template renders the conversation. */
  model(): Model;
  generate(request: AgentGenerateRequest): Promise<AgentGeneration>;
}

/** Runs on an engine Context (its model renders the template). */
export function contextBackend(ctx: Context): AgentBackend {
  return {
    model: () => ctx.model,
    generate: async (r) => {
      const chat = ctx.model.tokenizeChat(r.messages, r.tools && r.tools.length > 0 ? { tools: r.tools } : {});
      return ctx.generate(chat.tokens, {
        maxTokens: r.maxTokens,
        temperature: r.temperature,
        stop: chat.stop.slice(0, 16),
        ...(r.grammar ? { grammar: r.grammar } : {}),
        ...(r.topK !== undefined ? { topK: r.topK } : {}),
        ...(r.topP !== undefined ? { topP: r.topP } : {}),
        ...(r.seed !== undefined ? { seed: r.seed } : {}),
        ...(r.signal ? { signal: r.signal } : {}),
      });
    },
  };
}

/** What the agent needs of the server's ModelManager (accepted structurally). */
export interface ManagerLike {
  readonly model: Model | null;
  chat(job: {
    messages: TemplateMessage[];
    tools?: unknown[];
    params?: { grammar?: string; maxTokens?: number; temperature?: number; topK?: number; topP?: number; seed?: number };
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
        ...(r.tools && r.tools.length > 0 ? { tools: r.tools } : {}),
        params: {
          maxTokens: r.maxTokens,
          temperature: r.temperature,
          ...(r.grammar ? { grammar: r.grammar } : {}),
          ...(r.topK !== undefined ? { topK: r.topK } : {}),
          ...(r.topP !== undefined ? { topP: r.topP } : {}),
          ...(r.seed !== undefined ? { seed: r.seed } : {}),
        },
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
  /** 'auto' (default): the template's format when it supports tools, else JSON. */
  format?: ToolFormat | 'auto';
  /** Choice for the first step (default 'auto'); later steps are 'auto', the last one 'none'. */
  toolChoice?: ToolChoice;
  /** Generations per run (default 5). */
  maxSteps?: number;
  /** Answers confirmation requests for tools that write data; without it such calls are declined. */
  confirm?: (request: ConfirmationRequest) => Promise<boolean>;
  systemPrompt?: string;
  params?: { maxTokens?: number; temperature?: number; topK?: number; topP?: number; seed?: number };
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


/** Whether the model's template renders tools in the `<tool_call>` (Hermes/Qwen) style. */
export function detectToolFormat(model: Model, registry: ToolSchemas): ToolFormat {
  const template = model.info.chatTemplate ?? '';
  if (!template.includes('<tool_call>') || registry.names.length === 0) return 'json';
  try {
    const tool = registry.openAITools()[0]!;
    const r = model.applyChatTemplate([{ role: 'user', content: 'x' }], { tools: [tool] });
    return r.prompt.includes(tool.function.name) ? 'template' : 'json';
  } catch {
    return 'json';
  }
}

/** The system prompt for JSON mode: the tools and the reply format, for templates without tool support. */
export function jsonModeSystemPrompt(base: string, registry: ToolSchemas): string {
  if (registry.names.length === 0) return `${base}\n\nReply with one JSON object: {"answer": "<your reply>"}.`;
  const tools = registry.openAITools().map((t) => JSON.stringify({ name: t.function.name, description: t.function.description, parameters: t.function.parameters }));
  return (
    `${base}\n\n# Tools\n${tools.join('\n')}\n\n` +
    'Reply with exactly one JSON object: either {"tool": "<tool name>", "arguments": {...}} to call a tool, ' +
    'or {"answer": "<your reply to the user>"}. Tool results come back as messages starting with "Tool result".'
  );
}

export function renderMessages(history: readonly AgentMessage[], format: ToolFormat, system: string): TemplateMessage[] {
  const out: TemplateMessage[] = [{ role: 'system', content: system }];
  for (const m of history) {
    if (m.role === 'system') {
      out.push({ role: 'system', content: m.content });
    } else if (m.role === 'user') {
      out.push({ role: 'user', content: m.content });
    } else if (m.role === 'assistant') {
      if (format === 'template') {
        const msg: TemplateMessage = { role: 'assistant', content: m.content };
        if (m.toolCalls && m.toolCalls.length > 0) {
          msg.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
        }
        out.push(msg);
      } else {
        const parts = (m.toolCalls ?? []).map((c) => JSON.stringify({ tool: c.name, arguments: c.arguments }));
        if (parts.length === 0) parts.push(JSON.stringify({ answer: m.content }));
        out.push({ role: 'assistant', content: parts.join('\n') });
      }
    } else if (format === 'template') {
      out.push({ role: 'tool', content: m.content, ...(m.toolCallId ? { tool_call_id: m.toolCallId } : {}), ...(m.name ? { name: m.name } : {}) });
    } else {
      out.push({ role: 'user', content: `Tool result (${m.name ?? 'tool'}): ${m.content}` });
    }
  }
  return out;
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

function toStored(m: AgentMessage): NewMessage {
  return {
    role: m.role,
    content: m.content,
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
  const format: ToolFormat = !options.format || options.format === 'auto' ? detectToolFormat(model, registry) : options.format;
  const system = format === 'json' ? jsonModeSystemPrompt(options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT, registry) : (options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT);
  const openAITools = registry.openAITools();

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
    format,
    stopReason,
    usage,
  });

  for (let step = 1; step <= maxSteps; step++) {
    const firstChoice = options.toolChoice ?? 'auto';
    const choice: ToolChoice = firstChoice === 'none' || step === maxSteps ? 'none' : step === 1 ? firstChoice : 'auto';
    const grammar = buildToolGrammar({ registry, format, choice, toGrammar });
    const gen = await options.backend.generate({
      messages: renderMessages(history, format, system),
      ...(format === 'template' && openAITools.length > 0 ? { tools: openAITools } : {}),
      ...(grammar ? { grammar } : {}),
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      ...(params.topK !== undefined ? { topK: params.topK } : {}),
      ...(params.topP !== undefined ? { topP: params.topP } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });

    // Stream answer text as it comes; tool-call text is not streamed (it arrives as a tool_call event).
    const answerStream = format === 'json' && grammar ? new JsonAnswerStream() : null;
    let lead = '';
    let streaming: boolean | null = null;
    for await (const chunk of gen) {
      if (answerStream) {
        const text = answerStream.push(chunk.text);
        if (text) yield { type: 'token', step, text };
        continue;
      }
      if (streaming === null) {
        lead += chunk.text;
        const first = lead.trimStart()[0];
        if (first === undefined) continue;
        streaming = first !== '<';
        if (streaming) yield { type: 'token', step, text: lead };
      } else if (streaming) {
        yield { type: 'token', step, text: chunk.text };
      }
    }
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
    const parsed = parseOutput(r.text, format);

    if (parsed.calls.length === 0 && parsed.invalid.length === 0) {
      save({ role: 'assistant', content: parsed.content });
      const reason: AgentStopReason =
        r.stopReason === 'max_tokens' ? 'max_tokens' : r.stopReason === 'context_full' ? 'context_full' : step === maxSteps && maxSteps > 1 ? 'step_limit' : 'answer';
      const result = finish(parsed.content, reason, step);
      yield { type: 'done', result };
      return result;
    }

    for (const bad of parsed.invalid) yield { type: 'invalid_tool_call', step, raw: bad.raw.slice(0, 2000), error: bad.error };
    if (parsed.calls.length === 0) {
      // Only unreadable calls: say so and let the model try again.
      save({ role: 'assistant', content: r.text.trim() });
      save({ role: 'system', content: `Your tool call could not be read (${parsed.invalid.map((i) => i.error).join('; ')}). Reply with one valid tool call or an answer.` });
      continue;
    }

    const calls: ToolCall[] = parsed.calls.map((c: ParsedCall) => ({ id: c.id, name: c.name, arguments: c.arguments }));
    save({ role: 'assistant', content: parsed.content, toolCalls: calls });
    for (const call of calls) {
      toolCalls++;
      const known = registry.has(call.name);
      const tool = known ? registry.get(call.name) : null;
      yield { type: 'tool_call', step, call, mutates: tool?.mutates ?? false };
      let ok = false;
      let result: unknown;
      try {
        if (!tool) throw new ToolError('tool_not_found', `no tool named ${JSON.stringify(call.name)}; available: ${registry.names.join(', ')}`);
        const args = registry.parseArguments(call.name, call.arguments);
        let approved = true;
        if (tool.mutates) {
          const confirmation: ConfirmationRequest = {
            id: randomUUID(),
            call,
            tool: { name: tool.name, description: tool.description },
            ...(conversationId ? { conversationId } : {}),
          };
          // Asked before the event goes out, so an app that answers at once finds the request pending.
          const answer = options.confirm ? options.confirm(confirmation) : Promise.resolve(false);
          answer.catch(() => {});
          yield { type: 'confirmation_required', step, confirmation };
          approved = await answer.catch(() => false);
        }
        if (!approved) {
          result = { error: { code: 'declined', message: 'the user did not approve this action; do not retry it unless asked' } };
        } else {
          result = await tool.handler(args, { caller: 'model', ...(conversationId ? { conversationId } : {}), ...(options.signal ? { signal: options.signal } : {}) });
          ok = true;
        }
      } catch (err) {
        // A coded error reaches the model with its code and message; anything else only as "the tool failed".
        result = toolErrorResult(err);
      }
      yield { type: 'tool_result', step, callId: call.id, name: call.name, ok, result };
      save({ role: 'tool', content: resultText(result, maxResultChars), toolCallId: call.id, name: call.name });
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
