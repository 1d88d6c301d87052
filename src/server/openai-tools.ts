// Function calling for /v1/chat/completions. The client's functions become a grammar, so that even a weak
// model can only emit a well-formed call whose arguments match the function's JSON schema (or, with
// tool_choice "auto", a plain answer); the output is read back into OpenAI's `tool_calls`. It is the
// agent loop's machinery (tools/tool-grammar.ts, tools/tool-calls.ts) with the client, not the app,
// running the functions.
import type { ChatTemplateMessage, Model } from '../engine/index.js';
import { jsonSchemaToGrammar } from '../engine/index.js';
import { WestfallError, isWestfallError } from '../errors.js';
import { detectToolFormat, jsonModeSystemPrompt } from '../tools/agent.js';
import type { JsonSchema, OpenAITool } from '../tools/registry.js';
import { JsonAnswerStream, parseOutput, type ParsedCall } from '../tools/tool-calls.js';
import { buildToolGrammar, type ToolChoice, type ToolFormat, type ToolSchemas } from '../tools/tool-grammar.js';
import type { OpenAIMessage, Tool } from './schemas.js';

// OpenAI's rule for function names.
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const EMPTY_PARAMETERS: JsonSchema = { type: 'object', properties: {} };
const DEFAULT_SYSTEM = 'You are a helpful assistant.';
const TOOL_CALL_OPEN = '<tool_call>';

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

/** OpenAI messages to what the chat template takes; tool calls carry their arguments as objects. */
export function toTemplateMessages(messages: readonly OpenAIMessage[]): ChatTemplateMessage[] {
  return messages.map((m) => {
    const out: ChatTemplateMessage = { role: m.role === 'developer' ? 'system' : m.role, content: contentText(m.content) };
    if (m.name) out.name = m.name;
    if (m.tool_calls) {
      // Templates render `arguments | tojson`: a string would appear quoted, unlike what the model emitted.
      out.tool_calls = m.tool_calls.map((raw) => {
        const c = readWireCall(raw);
        return { id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } };
      });
    }
    if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
    return out;
  });
}

/**
 * JSON mode (templates without tool support): the tools and the reply format go into the system prompt,
 * earlier calls become the JSON the model would have written, results become user messages.
 */
function toJsonModeMessages(messages: readonly OpenAIMessage[], tools: ClientTools): ChatTemplateMessage[] {
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => contentText(m.content));
  const out: ChatTemplateMessage[] = [{ role: 'system', content: jsonModeSystemPrompt(system.join('\n\n') || DEFAULT_SYSTEM, tools) }];
  const callNames = new Map<string, string>();
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'developer') continue;
    if (m.role === 'user') out.push({ role: 'user', content: contentText(m.content) });
    else if (m.role === 'assistant') {
      const calls = (m.tool_calls ?? []).map(readWireCall);
      for (const c of calls) callNames.set(c.id, c.name);
      const parts = calls.map((c) => JSON.stringify({ tool: c.name, arguments: c.arguments }));
      if (parts.length === 0) parts.push(JSON.stringify({ answer: contentText(m.content) }));
      out.push({ role: 'assistant', content: parts.join('\n') });
    } else {
      const name = m.name ?? (m.tool_call_id ? callNames.get(m.tool_call_id) : undefined) ?? 'tool';
      out.push({ role: 'user', content: `Tool result (${name}): ${contentText(m.content)}` });
    }
  }
  return out;
}

export interface ToolCallPlan {
  format: ToolFormat;
  choice: ToolChoice;
  /** null: unconstrained text (template format with tool_choice "none"). */
  grammar: string | null;
  messages: ChatTemplateMessage[];
  /** For the chat template (template format only). */
  templateTools: OpenAITool[] | undefined;
}

/** How one request with tools is prompted and constrained for this model. */
export function planToolCalls(model: Model, rawTools: readonly Tool[], rawChoice: unknown, messages: readonly OpenAIMessage[]): ToolCallPlan {
  const tools = new ClientTools(rawTools);
  const choice = parseToolChoice(rawChoice, tools.names.length > 0);
  const format = detectToolFormat(model, tools);
  let grammar: string | null;
  try {
    grammar = buildToolGrammar({ registry: tools, format, choice, toGrammar: jsonSchemaToGrammar });
  } catch (err) {
    if (isWestfallError(err) && err.code === 'invalid_request') throw err;
    throw invalid('tools', `a function's parameters could not be turned into a grammar: ${(err as Error).message}`);
  }
  return {
    format,
    choice,
    grammar,
    messages: format === 'template' ? toTemplateMessages(messages) : toJsonModeMessages(messages, tools),
    templateTools: format === 'template' ? tools.openAITools() : undefined,
  };
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

/** The reply of a finished generation: text and/or calls. */
export function readReply(text: string, format: ToolFormat): { content: string | null; toolCalls: WireToolCall[] } {
  const parsed = parseOutput(text, format);
  if (parsed.calls.length === 0) {
    // An answer, or a call cut off by max_tokens: the text is the reply, as generated (and as streamed);
    // JSON mode's answer is decoded from its {"answer": ...} wrapper.
    return { content: format === 'json' && parsed.invalid.length === 0 ? parsed.content : text, toolCalls: [] };
  }
  return { content: parsed.content === '' ? null : parsed.content, toolCalls: parsed.calls.map(toWireCall) };
}

/**
 * Splits a streamed reply into what can be shown at once and what must wait for the end: an answer
 * streams as it is generated; a tool call is only known complete (and valid) at the end.
 */
export class ReplyStream {
  readonly #format: ToolFormat;
  readonly #json: JsonAnswerStream | null;
  #decided: 'text' | 'call' | null = null;
  #held = '';
  #sent = '';

  constructor(format: ToolFormat) {
    this.#format = format;
    this.#json = format === 'json' ? new JsonAnswerStream() : null;
  }

  /** Text to stream now for this chunk of model output. */
  push(chunk: string): string {
    const out = this.#next(chunk);
    this.#sent += out;
    return out;
  }

  /** At the end: the calls, or the part of the reply's text not streamed yet. */
  finish(text: string): { rest: string; toolCalls: WireToolCall[] } {
    const reply = readReply(text, this.#format);
    if (reply.toolCalls.length > 0) return { rest: '', toolCalls: reply.toolCalls };
    // Template format streams the raw text; JSON mode streams the decoded answer.
    const full = this.#format === 'template' || reply.content === null ? text : reply.content;
    return { rest: full.startsWith(this.#sent) ? full.slice(this.#sent.length) : '', toolCalls: [] };
  }

  #next(chunk: string): string {
    if (this.#json) return this.#json.push(chunk);
    if (this.#decided === 'text') return chunk;
    if (this.#decided === 'call') return '';
    this.#held += chunk;
    const start = this.#held.trimStart();
    if (start === '') return '';
    // The grammar admits a call only as the whole reply, starting with "<tool_call>"; anything else is text.
    if (start.length < TOOL_CALL_OPEN.length && TOOL_CALL_OPEN.startsWith(start)) return '';
    this.#decided = start.startsWith(TOOL_CALL_OPEN) ? 'call' : 'text';
    if (this.#decided === 'call') return '';
    const out = this.#held;
    this.#held = '';
    return out;
  }
}
