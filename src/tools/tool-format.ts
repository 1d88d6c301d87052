// Grammars that make even a weak (or random) model emit either a final answer or a call that matches a
// tool's JSON schema. Built with llama.cpp's JSON-schema converter (jsonSchemaToGrammar) from the same
// schemas the model is shown.
//
// Two output formats:
// - 'template': the chat template's own tool-call syntax, for templates in the Hermes/Qwen style:
//     <tool_call>\n{"name": "...", "arguments": {...}}\n</tool_call>
// - 'json': one JSON object, for models whose template has no tool support:
//     {"tool": "...", "arguments": {...}}   or   {"answer": "..."}
import type { JsonSchema, OpenAITool } from './registry.js';

export type ToolFormat = 'template' | 'json';

/** auto: answer or call; required: a call; none: an answer. */
export type ToolChoice = 'auto' | 'required' | 'none' | { name: string };

export type SchemaToGrammar = (schema: unknown) => string;

/**
 * The tools a grammar is built for: the app's own registry (agent loop) or the functions an OpenAI client
 * sent with its request (/v1/chat/completions). `parameters` throws for an unknown name.
 */
export interface ToolSchemas {
  readonly names: string[];
  parameters(name: string): JsonSchema;
  openAITools(): OpenAITool[];
}

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

/** The schema of one call in the template's format: {"name": <const>, "arguments": <tool schema>}. */
export function callSchema(registry: ToolSchemas, names: readonly string[], nameKey: 'name' | 'tool'): JsonSchema {
  const alternatives = names.map((name) => ({
    type: 'object',
    properties: { [nameKey]: { const: name }, arguments: registry.parameters(name) },
    required: [nameKey, 'arguments'],
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

/**
 * The grammar for one step, or null for unconstrained text (format 'template' with choice 'none': the
 * answer is free text).
 */
export function buildToolGrammar(options: {
  registry: ToolSchemas;
  format: ToolFormat;
  choice: ToolChoice;
  toGrammar: SchemaToGrammar;
}): string | null {
  const { registry, format, choice, toGrammar } = options;
  const noTools = registry.names.length === 0 || choice === 'none';
  if (format === 'json') {
    if (noTools) return tightenSpace(toGrammar(ANSWER_SCHEMA));
    const call = callSchema(registry, toolNames(registry, choice), 'tool');
    const schema = choice === 'auto' ? { anyOf: [...((call.anyOf as JsonSchema[] | undefined) ?? [call]), ANSWER_SCHEMA] } : call;
    return tightenSpace(toGrammar(schema));
  }
  if (noTools) return null;
  const json = tightenSpace(toGrammar(callSchema(registry, toolNames(registry, choice), 'name'))).replace(/^root ::=/m, 'wf-call-json ::=');
  const lines = [
    json.trimEnd(),
    'wf-tool-call ::= "<tool_call>\\n" wf-call-json "\\n</tool_call>"',
    // An answer is any text that does not start like a tool call.
    'wf-answer ::= [^<] .*',
    choice === 'auto' ? 'root ::= wf-tool-call | wf-answer' : 'root ::= wf-tool-call',
  ];
  return `${lines.join('\n')}\n`;
}
