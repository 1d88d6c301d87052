// The tool registry: every function the model (and the app) can call is declared once, with a zod input
// schema. The schema validates arguments, and its JSON schema (z.toJSONSchema) is what the model sees,
// both in the chat template's tool list and in the grammar that constrains its output. `mutates` marks
// functions that write the user's data: when the model calls one, the app must confirm it first.
import { z } from 'zod';
import { isWestfallError } from '../errors.js';
import { ToolError } from './errors.js';
import type { ToolChoices } from './tool-sentence.js';

export type JsonSchema = Record<string, unknown>;

export interface ToolContext {
  /** Who asked: the model (through the agent loop) or the user (through the app). */
  caller: 'model' | 'user';
  conversationId?: string;
  signal?: AbortSignal;
}

export interface ToolDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  /** Lowercase snake_case, unique: `area_action`. */
  name: string;
  /** For the model: what the function does and when to use it. */
  description: string;
  input: S;
  /** Writes the user's data (create, change, delete): a model's call needs the user's confirmation. */
  mutates: boolean;
  handler: (args: z.output<S>, ctx: ToolContext) => R | Promise<R>;
  /**
   * The JSON schema the model sees, for tools declared in JSON Schema rather than zod (MCP servers' tools,
   * already checked by src/mcp/schema-guard.ts); default: derived from `input`.
   */
  parameters?: JsonSchema;
  /** For people: a short title ("Start a timer"). Default: the name in words. */
  title?: string;
  /**
   * The confirmation in plain words, a template filled from the arguments (see tool-sentence.ts):
   * "Start a timer on project {project/projectId}?". Without one: "Use <title> from <source>?".
   */
  confirm?: string;
  /** Where the tool comes from, for the generic sentence (default "Westfall"; MCP tools: their server). */
  source?: string;
  /**
   * Groups of arguments of which at least one must be given (what a zod refinement would say, but the
   * JSON schema cannot): the form marks them required, and a call without any is not run.
   */
  requiredAny?: string[][];
  /** Values the user can pick for some arguments (their accounts, projects), with labels for the sentence. */
  choices?: () => ToolChoices;
}

export type { ToolChoiceOption, ToolChoices } from './tool-sentence.js';

/** One argument that is missing or wrong: its path and a message. */
export interface ArgumentProblem {
  path: string;
  message: string;
}

// A definition of any input type, as the registry stores it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = ToolDefinition<z.ZodType, any>;

export interface ToolDescription {
  name: string;
  description: string;
  mutates: boolean;
  parameters: JsonSchema;
  /** For people (the confirmation card): a title, the sentence template, the source, "one of" groups. */
  title: string;
  confirm: string | null;
  source: string;
  requiredAny: string[][];
}

/** "time_start_timer" → "Time start timer": a title for tools that declare none. */
export function titleFromName(name: string): string {
  const words = name.replace(/[_\-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** An OpenAI-style function tool, as chat templates expect it. */
export interface OpenAITool {
  type: 'function';
  function: { name: string; description: string; parameters: JsonSchema };
}

export const TOOL_NAME_RE = /^[a-z][a-z0-9_]{1,63}$/;

/** Declares a tool (identity; it exists for the types). */
export function defineTool<S extends z.ZodType, R>(def: ToolDefinition<S, R>): ToolDefinition<S, R> {
  return def;
}

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The JSON schema of a tool's input as the model should see it: the input side (defaults optional),
 * without `$schema`, without zod's ±2^53 integer bounds (noise that makes grammars huge), and with zod's
 * long date/time regexes dropped where a `format` already says it.
 */
export function toolJsonSchema(schema: z.ZodType): JsonSchema {
  const raw = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const clean = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(clean);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === '$schema') continue;
      if ((k === 'minimum' && v === -SAFE) || (k === 'maximum' && v === SAFE)) continue;
      if (k === 'pattern' && typeof (node as Record<string, unknown>).format === 'string') continue;
      out[k] = k === 'pattern' && typeof v === 'string' ? grammarFriendlyPattern(v) : clean(v);
    }
    return out;
  };
  return clean(raw) as JsonSchema;
}

const CLASS_ESCAPES: Record<string, [outside: string, inside: string]> = {
  d: ['[0-9]', '0-9'],
  w: ['[A-Za-z0-9_]', 'A-Za-z0-9_'],
  s: ['[ \\t\\n\\r]', ' \\t\\n\\r'],
};

/**
 * Rewrites the shorthand classes \d, \w and \s (which llama.cpp's pattern converter does not know) as
 * explicit ranges, so the grammar enforces the pattern instead of accepting any string.
 */
export function grammarFriendlyPattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      const e = pattern[i + 1]!;
      const rep = CLASS_ESCAPES[e];
      out += rep ? rep[inClass ? 1 : 0] : c + e;
      i++;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

export class ToolRegistry {
  readonly #tools = new Map<string, AnyTool>();
  readonly #schemas = new Map<string, JsonSchema>();

  constructor(tools: readonly AnyTool[] = []) {
    this.register(...tools);
  }

  register(...tools: AnyTool[]): this {
    for (const t of tools) {
      if (!TOOL_NAME_RE.test(t.name)) throw new ToolError('invalid_params', `tool name ${JSON.stringify(t.name)} must be lowercase snake_case`);
      if (this.#tools.has(t.name)) throw new ToolError('conflict', `tool ${t.name} is declared twice`);
      this.#tools.set(t.name, t);
      this.#schemas.set(t.name, t.parameters ?? toolJsonSchema(t.input));
    }
    return this;
  }

  /** This registry plus more tools (the schemas already derived are reused). */
  extend(tools: readonly AnyTool[]): ToolRegistry {
    const r = new ToolRegistry();
    for (const [name, t] of this.#tools) {
      r.#tools.set(name, t);
      r.#schemas.set(name, this.#schemas.get(name)!);
    }
    return r.register(...tools);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  get(name: string): AnyTool {
    const t = this.#tools.get(name);
    if (!t) throw new ToolError('tool_not_found', `no tool named ${JSON.stringify(name)}`, { details: { name } });
    return t;
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }

  list(): AnyTool[] {
    return [...this.#tools.values()];
  }

  /** A registry with only these tools (unknown names are errors). */
  subset(names: readonly string[]): ToolRegistry {
    return new ToolRegistry(names.map((n) => this.get(n)));
  }

  parameters(name: string): JsonSchema {
    this.get(name);
    return this.#schemas.get(name)!;
  }

  describe(): ToolDescription[] {
    return this.list().map((t) => ({
      name: t.name,
      description: t.description,
      mutates: t.mutates,
      parameters: this.#schemas.get(t.name)!,
      title: t.title ?? titleFromName(t.name),
      confirm: t.confirm ?? null,
      source: t.source ?? 'Westfall',
      requiredAny: t.requiredAny ?? [],
    }));
  }

  /** The tools in OpenAI's function format (what `applyChatTemplate(messages, { tools })` takes). */
  openAITools(): OpenAITool[] {
    return this.list().map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: this.#schemas.get(t.name)! } }));
  }

  /** Validates raw arguments against the tool's schema; throws tool_invalid_arguments naming each field. */
  parseArguments(name: string, raw: unknown): unknown {
    const tool = this.get(name);
    const r = tool.input.safeParse(raw ?? {});
    if (r.success) return r.data;
    const fields = r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
    throw new ToolError('tool_invalid_arguments', `invalid arguments for ${name}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, {
      details: { tool: name, fields },
    });
  }

  /**
   * What is missing or wrong in raw arguments (the schema, then the "one of" groups); empty when they
   * can run. The confirmation form shows these as fields to fill instead of failing the call.
   */
  problems(name: string, raw: unknown): ArgumentProblem[] {
    const tool = this.get(name);
    const r = tool.input.safeParse(raw ?? {});
    if (!r.success) return r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
    return missingAny(tool, r.data);
  }

  /** parseArguments, and the "one of" groups too (tool_invalid_arguments naming the fields). */
  parseRunnable(name: string, raw: unknown): unknown {
    const args = this.parseArguments(name, raw);
    const missing = missingAny(this.get(name), args);
    if (missing.length > 0) {
      throw new ToolError('tool_invalid_arguments', `invalid arguments for ${name}: ${missing.map((f) => `${f.path}: ${f.message}`).join('; ')}`, {
        details: { tool: name, fields: missing },
      });
    }
    return args;
  }

  /** Validates and runs a tool. Confirmation of mutating calls is the caller's business (see agent.ts). */
  async invoke(name: string, raw: unknown, ctx: ToolContext): Promise<unknown> {
    const tool = this.get(name);
    const args = this.parseRunnable(name, raw);
    return await tool.handler(args, ctx);
  }
}

function missingAny(tool: AnyTool, args: unknown): ArgumentProblem[] {
  const given = (k: string) => {
    const v = (args as Record<string, unknown> | null)?.[k];
    return v !== undefined && v !== null && v !== '';
  };
  return (tool.requiredAny ?? [])
    .filter((group) => group.length > 0 && !group.some(given))
    .map((group) => ({ path: group[0]!, message: group.length > 1 ? `give ${group.join(' or ')}` : 'Required' }));
}

/** A tool failure as the model sees it: a code and a message, never a stack. */
export function toolErrorResult(err: unknown): { error: { code: string; message: string; details?: unknown } } {
  if (isWestfallError(err)) {
    return { error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } };
  }
  return { error: { code: 'internal_error', message: 'the tool failed unexpectedly' } };
}
