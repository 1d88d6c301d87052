// How one request's tools reach the model. Where the model's chat template has a tool format, llama.cpp's
// chat layer renders the tools in it and constrains the reply with that format's own grammar (lazy for
// tool_choice "auto", strict for "required"): mode 'native'. The pinned llama.cpp has no generic format
// for templates without tool support (Gemma 2, Phi-3.5, ...), so those get JSON mode: the tools and a
// reply format go into the system prompt, and a grammar built with llama.cpp's JSON-schema converter
// makes even a weak model emit either an answer or a call that matches a tool's schema:
//     {"tool": "...", "arguments": {...}}   or   {"answer": "..."}
import type { ChatFormatOptions, Model } from '../engine/index.js';
import type { JsonSchema, OpenAITool } from './registry.js';

export type ToolMode = 'native' | 'json';

/** auto: answer or call; required: a call; none: an answer; a name: a call of that tool. */
export type ToolChoice = 'auto' | 'required' | 'none' | { name: string };

export type SchemaToGrammar = (schema: unknown) => string;

/**
 * The tools of one request: the app's own registry (agent loop) or the functions an OpenAI client sent
 * with its request (/v1/chat/completions). `parameters` throws for an unknown name.
 */
export interface ToolSchemas {
  readonly names: string[];
  parameters(name: string): JsonSchema;
  openAITools(): OpenAITool[];
}

/**
 * Whether the model's template carries tools in a format llama.cpp knows: it then has a grammar for a
 * required call. (Not every format has one for "auto": Llama 3.x calls are bare JSON with no marker to
 * trigger a lazy grammar on, and are only read back by the parser.)
 */
export function chooseToolMode(model: Model, tools: readonly OpenAITool[]): ToolMode {
  if (tools.length === 0) return 'native';
  try {
    const r = model.applyChatTemplate([{ role: 'user', content: 'x' }], { tools: [...tools], toolChoice: 'required' });
    return r.chatFormat.grammar ? 'native' : 'json';
  } catch {
    return 'json';
  }
}

/** The template options for tools in the model's own format; a named choice offers only that tool, once. */
export function nativeToolOptions(registry: ToolSchemas, choice: ToolChoice, parallelToolCalls: boolean): ChatFormatOptions {
  if (registry.names.length === 0) return {};
  if (typeof choice === 'object') {
    registry.parameters(choice.name);
    const tool = registry.openAITools().find((t) => t.function.name === choice.name)!;
    // A named function is one call of it.
    return { tools: [tool], toolChoice: 'required', parallelToolCalls: false };
  }
  return { tools: registry.openAITools(), toolChoice: choice, parallelToolCalls };
}

// ---------------------------------------------------------------------------------------------------
// JSON mode

/** JSON whitespace limited to one optional space (the converter allows newlines and tab runs). */
function tightenSpace(grammar: string): string {
  return grammar.replace(/^space ::= .*$/m, 'space ::= " "?');
}

function toolNames(registry: ToolSchemas, choice: ToolChoice): string[] {
  if (typeof choice === 'object') {
    registry.parameters(choice.name);
    return [choice.name];
  }
  return registry.names;
}

/** The schema of one call: {"tool": <const>, "arguments": <tool schema>}. */
export function callSchema(registry: ToolSchemas, names: readonly string[]): JsonSchema {
  const alternatives = names.map((name) => ({
    type: 'object',
    properties: { tool: { const: name }, arguments: registry.parameters(name) },
    required: ['tool', 'arguments'],
    additionalProperties: false,
  }));
  return alternatives.length === 1 ? alternatives[0]! : { anyOf: alternatives };
}

export const ANSWER_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { answer: { type: 'string' } },
  required: ['answer'],
  additionalProperties: false,
};

/** The JSON-mode grammar for one step: an answer, a call, or either (choice). */
export function buildJsonModeGrammar(options: { registry: ToolSchemas; choice: ToolChoice; toGrammar: SchemaToGrammar }): string {
  const { registry, choice, toGrammar } = options;
  if (registry.names.length === 0 || choice === 'none') return tightenSpace(toGrammar(ANSWER_SCHEMA));
  const call = callSchema(registry, toolNames(registry, choice));
  const schema = choice === 'auto' ? { anyOf: [...((call.anyOf as JsonSchema[] | undefined) ?? [call]), ANSWER_SCHEMA] } : call;
  return tightenSpace(toGrammar(schema));
}

/** The system prompt for JSON mode: the tools and the reply format. */
export function jsonModeSystemPrompt(base: string, registry: ToolSchemas): string {
  if (registry.names.length === 0) return `${base}\n\nReply with one JSON object: {"answer": "<your reply>"}.`;
  const tools = registry.openAITools().map((t) => JSON.stringify({ name: t.function.name, description: t.function.description, parameters: t.function.parameters }));
  return (
    `${base}\n\n# Tools\n${tools.join('\n')}\n\n` +
    'Reply with exactly one JSON object: either {"tool": "<tool name>", "arguments": {...}} to call a tool, ' +
    'or {"answer": "<your reply to the user>"}. Tool results come back as messages starting with "Tool result".'
  );
}

/** One message of a conversation, as both the agent and the OpenAI route hold it. */
export interface ToolTurnMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  reasoning?: string;
  toolCalls?: { id: string; name: string; arguments: unknown }[];
  toolCallId?: string;
  name?: string;
}

/** Template messages (OpenAI's shape) for native mode: calls carry their arguments as objects. */
export function toNativeMessages(history: readonly ToolTurnMessage[]): { role: string; content: string; [key: string]: unknown }[] {
  return history.map((m) => {
    const out: { role: string; content: string; [key: string]: unknown } = { role: m.role, content: m.content };
    // Templates that show earlier thinking (or drop it) decide that themselves from reasoning_content.
    if (m.role === 'assistant' && m.reasoning) out.reasoning_content = m.reasoning;
    if (m.toolCalls && m.toolCalls.length > 0) {
      // Templates render `arguments | tojson`: a string would appear quoted, unlike what the model emitted.
      out.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    }
    if (m.toolCallId) out.tool_call_id = m.toolCallId;
    if (m.name) out.name = m.name;
    return out;
  });
}

/**
 * Template messages for JSON mode: one system prompt with the tools, earlier calls as the JSON the model
 * would have written, results as user messages.
 */
export function toJsonModeMessages(history: readonly ToolTurnMessage[], registry: ToolSchemas, baseSystem: string): { role: string; content: string }[] {
  const system = history.filter((m) => m.role === 'system').map((m) => m.content);
  const out: { role: string; content: string }[] = [{ role: 'system', content: jsonModeSystemPrompt(system.join('\n\n') || baseSystem, registry) }];
  const callNames = new Map<string, string>();
  for (const m of history) {
    if (m.role === 'system') continue;
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'assistant') {
      const calls = m.toolCalls ?? [];
      for (const c of calls) callNames.set(c.id, c.name);
      const parts = calls.map((c) => JSON.stringify({ tool: c.name, arguments: c.arguments }));
      if (parts.length === 0) parts.push(JSON.stringify({ answer: m.content }));
      out.push({ role: 'assistant', content: parts.join('\n') });
    } else {
      const name = m.name ?? (m.toolCallId ? callNames.get(m.toolCallId) : undefined) ?? 'tool';
      out.push({ role: 'user', content: `Tool result (${name}): ${m.content}` });
    }
  }
  return out;
}
