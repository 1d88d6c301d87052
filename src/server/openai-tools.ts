// /v1/chat/completions in the model's own chat format: what a request asks (tools and tool_choice,
// parallel_tool_calls, response_format, reasoning_format, chat_template_kwargs, a thinking budget)
// becomes the options of llama.cpp's chat layer, which renders the template and picks the format's
// grammar and parser (native mode); templates without tool support get JSON mode (tools/tool-format.ts).
// Combinations we cannot serve are a 400 that says why.
import type { ChatFormatOptions, Model, ReasoningBudget, ReasoningFormat } from '../engine/index.js';
import { jsonSchemaToGrammar } from '../engine/index.js';
import { WestfallError, isWestfallError } from '../errors.js';
import type { JsonSchema, OpenAITool } from '../tools/registry.js';
import type { ParsedCall } from '../tools/tool-calls.js';
import {
  buildJsonModeGrammar,
  chooseToolMode,
  nativeToolOptions,
  toJsonModeMessages,
  toNativeMessages,
  type ToolChoice,
  type ToolMode,
  type ToolSchemas,
  type ToolTurnMessage,
} from '../tools/tool-format.js';
import type { ChatCompletionRequest, OpenAIMessage, Tool } from './schemas.js';

// OpenAI's rule for function names.
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const EMPTY_PARAMETERS: JsonSchema = { type: 'object', properties: {} };
const DEFAULT_SYSTEM = 'You are a helpful assistant.';

function invalid(path: string, message: string): WestfallError {
  return new WestfallError('invalid_request', `${path}: ${message}`, { details: { fields: [{ path, message }] } });
}

/** The functions of one request, as the grammar builder reads them. */
export class ClientTools implements ToolSchemas {
  readonly #tools = new Map<string, OpenAITool>();

  constructor(tools: readonly Tool[]) {
    tools.forEach((t, i) => {
      const name = t.function.name;
      if (!FUNCTION_NAME.test(name)) throw invalid(`tools.${i}.function.name`, 'must be 1 to 64 letters, digits, underscores or dashes');
      if (this.#tools.has(name)) throw invalid(`tools.${i}.function.name`, `"${name}" is declared twice`);
      const parameters = (t.function.parameters as JsonSchema | undefined) ?? EMPTY_PARAMETERS;
      this.#tools.set(name, { type: 'function', function: { name, description: t.function.description ?? '', parameters } });
    });
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }

  parameters(name: string): JsonSchema {
    const t = this.#tools.get(name);
    if (!t) throw invalid('tool_choice', `no function named "${name}" in tools`);
    return t.function.parameters;
  }

  openAITools(): OpenAITool[] {
    return [...this.#tools.values()];
  }
}

/** OpenAI's tool_choice: "auto" (the default), "none", "required" or {type: "function", function: {name}}. */
export function parseToolChoice(raw: unknown, hasTools: boolean): ToolChoice {
  let choice: ToolChoice;
  if (raw === undefined || raw === null || raw === 'auto') choice = 'auto';
  else if (raw === 'none' || raw === 'required') choice = raw;
  else if (typeof raw === 'object' && (raw as { type?: unknown }).type === 'function') {
    const name = (raw as { function?: { name?: unknown } }).function?.name;
    if (typeof name !== 'string' || name === '') throw invalid('tool_choice.function.name', 'must name one of the tools');
    choice = { name };
  } else {
    throw invalid('tool_choice', 'must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}');
  }
  if (!hasTools && (choice === 'required' || typeof choice === 'object')) throw invalid('tool_choice', 'needs tools');
  return choice;
}

function contentText(content: OpenAIMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((p) => p.type === 'text' || typeof p.text === 'string')
    .map((p) => p.text ?? '')
    .join('');
}

interface WireCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

/** A call the client sent back in an assistant message: OpenAI's arguments are a JSON string. */
function readWireCall(raw: unknown): { id: string; name: string; arguments: unknown } {
  const c = (raw ?? {}) as WireCall;
  const name = typeof c.function?.name === 'string' ? c.function.name : '';
  let args: unknown = c.function?.arguments ?? {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      // left as the string: the model sees what the client sent
    }
  }
  return { id: typeof c.id === 'string' ? c.id : '', name, arguments: args };
}

/** OpenAI messages as one conversation (calls with their arguments as objects, thinking apart). */
export function toTurnMessages(messages: readonly OpenAIMessage[]): ToolTurnMessage[] {
  return messages.map((m) => {
    const out: ToolTurnMessage = { role: m.role === 'developer' ? 'system' : m.role, content: contentText(m.content) };
    if (m.reasoning_content) out.reasoning = m.reasoning_content;
    if (m.tool_calls && m.tool_calls.length > 0) out.toolCalls = m.tool_calls.map(readWireCall);
    if (m.tool_call_id) out.toolCallId = m.tool_call_id;
    if (m.name) out.name = m.name;
    return out;
  });
}

export interface ChatPlan {
  mode: ToolMode;
  /** Messages for the chat template. */
  messages: { role: string; content: string; [key: string]: unknown }[];
  format: ChatFormatOptions;
  /** JSON mode's grammar (replaces the format's constraints). */
  grammar: string | null;
  reasoningBudget: ReasoningBudget | null;
  /** Thinking stays in the content while streaming (reasoning_format deepseek-legacy). */
  reasoningInContent: boolean;
}

function enableThinkingFrom(kwargs: Record<string, unknown> | null | undefined): boolean | undefined {
  const v = kwargs?.enable_thinking;
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid('chat_template_kwargs.enable_thinking', 'must be a boolean');
  return v;
}

/** How one chat completion request is rendered and constrained for this model. */
export function planChat(model: Model, body: ChatCompletionRequest): ChatPlan {
  const rawTools = body.tools ?? [];
  const tools = new ClientTools(rawTools);
  const choice = parseToolChoice(body.tool_choice, tools.names.length > 0);
  const callsWanted = tools.names.length > 0 && choice !== 'none';
  const rf = body.response_format;
  const jsonSchema: unknown = rf?.type === 'json_object' ? { type: 'object' } : rf?.type === 'json_schema' ? ((rf.json_schema as { schema?: unknown }).schema ?? { type: 'object' }) : undefined;
  if (jsonSchema && callsWanted) {
    throw invalid('response_format', 'a JSON response format cannot be combined with tools (use tool_choice "none", or leave out response_format)');
  }
  const reasoningFormat: ReasoningFormat = body.reasoning_format ?? 'auto';
  const kwargs: Record<string, unknown> = { ...(body.chat_template_kwargs ?? {}) };
  let enableThinking = enableThinkingFrom(body.chat_template_kwargs);
  if (body.reasoning_effort === 'none') {
    enableThinking = false;
  } else if (body.reasoning_effort) {
    kwargs.reasoning_effort = body.reasoning_effort;
  }
  delete kwargs.enable_thinking;
  const budgetTokens = body.reasoning_budget_tokens ?? body.thinking_budget_tokens ?? -1;
  const reasoningBudget: ReasoningBudget | null =
    budgetTokens >= 0 ? { tokens: budgetTokens, ...(body.reasoning_budget_message ? { message: body.reasoning_budget_message } : {}) } : null;

  const history = toTurnMessages(body.messages);
  const mode = callsWanted ? chooseToolMode(model, tools.openAITools()) : 'native';
  const common: ChatFormatOptions = {
    reasoningFormat,
    ...(enableThinking !== undefined ? { enableThinking } : {}),
    ...(Object.keys(kwargs).length > 0 ? { chatTemplateKwargs: kwargs } : {}),
    ...(jsonSchema ? { jsonSchema } : {}),
  };
  const reasoningInContent = body.stream === true && reasoningFormat === 'deepseek-legacy';
  if (mode === 'json') {
    let grammar: string;
    try {
      grammar = buildJsonModeGrammar({ registry: tools, choice, toGrammar: jsonSchemaToGrammar });
    } catch (err) {
      if (isWestfallError(err) && err.code === 'invalid_request') throw err;
      throw invalid('tools', `a function's parameters could not be turned into a grammar: ${(err as Error).message}`);
    }
    return { mode, messages: toJsonModeMessages(history, tools, DEFAULT_SYSTEM), format: common, grammar, reasoningBudget, reasoningInContent };
  }
  // tool_choice "none" still shows the model the tools, as OpenAI does; it just may not call them.
  const toolOptions = tools.names.length > 0 ? nativeToolOptions(tools, choice, body.parallel_tool_calls ?? true) : {};
  return { mode, messages: toNativeMessages(history), format: { ...common, ...toolOptions }, grammar: null, reasoningBudget, reasoningInContent };
}

/** A call in OpenAI's wire shape (arguments as a JSON string). */
export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export function toWireCall(c: ParsedCall): WireToolCall {
  return { id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) } };
}
