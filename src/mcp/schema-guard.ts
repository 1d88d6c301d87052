// A third party's tool schema is untrusted input: it reaches the chat template, our grammar converter and
// llama.cpp's, and a hostile or careless one (megabytes, deep nesting, a reversed range, a remote $ref)
// could hang or crash the backend for every chat. Each MCP tool passes these checks before it is offered;
// a tool that fails is left out and reported (the server's other tools still work).
import { createHash } from 'node:crypto';
import { checkGrammar, checkJsonSchema, MAX_SCHEMA_DEPTH } from '../engine/grammar-check.js';
import { WestfallError } from '../errors.js';
import type { JsonSchema } from '../tools/registry.js';

/** A tool's input schema, as JSON text. Real ones are a few KB; the largest reference server's is ~3 KB. */
export const MAX_TOOL_SCHEMA_BYTES = 64 * 1024;
export const MAX_TOOL_DESCRIPTION = 2000;
/** Tools taken from one server: each one adds to every prompt and to the grammar. */
export const MAX_TOOLS_PER_SERVER = 64;

export type SchemaToGrammar = (schema: JsonSchema) => string;

/**
 * Depth and size without recursion, so that a schema nested 100,000 levels deep is refused here and not
 * by a stack overflow somewhere later.
 */
function measure(schema: unknown): { depth: number; nodes: number } {
  let depth = 0;
  let nodes = 0;
  const stack: [unknown, number][] = [[schema, 1]];
  while (stack.length > 0) {
    const [node, d] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    nodes++;
    if (d > depth) depth = d;
    if (depth > MAX_SCHEMA_DEPTH * 2 || nodes > 100_000) break;
    for (const v of Array.isArray(node) ? node : Object.values(node)) stack.push([v, d + 1]);
  }
  return { depth, nodes };
}

function refuse(tool: string, message: string): WestfallError {
  return new WestfallError('mcp_bad_schema', `tool ${JSON.stringify(tool)}: ${message}`, { details: { tool } });
}

/**
 * Checks and cleans one tool's input schema; returns the schema the model will see. `toGrammar` (the
 * converter the chat will use) is tried too, so a schema it cannot convert fails here, for this tool only.
 */
export function guardToolSchema(tool: string, schema: unknown, toGrammar?: SchemaToGrammar): JsonSchema {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw refuse(tool, 'the input schema is not an object');
  const { depth } = measure(schema);
  // JSON nesting counts objects and arrays; schema nesting (checked below) counts schemas, about half.
  if (depth > MAX_SCHEMA_DEPTH * 2) throw refuse(tool, `the input schema is nested deeper than ${MAX_SCHEMA_DEPTH * 2} levels`);
  let text: string;
  try {
    text = JSON.stringify(schema);
  } catch {
    throw refuse(tool, 'the input schema cannot be serialized');
  }
  if (text.length > MAX_TOOL_SCHEMA_BYTES) throw refuse(tool, `the input schema is ${text.length} bytes, over the limit of ${MAX_TOOL_SCHEMA_BYTES}`);
  const s = JSON.parse(text) as Record<string, unknown>;
  if (s.type !== undefined && s.type !== 'object') throw refuse(tool, 'the input schema must describe an object');
  delete s.$schema;
  delete s.$id;
  // References only within the schema: llama.cpp's converter would otherwise try to resolve a URL.
  const refs: string[] = [];
  JSON.stringify(s, (k, v: unknown) => {
    if (k === '$ref' && typeof v === 'string') refs.push(v);
    return v;
  });
  const bad = refs.find((r) => !r.startsWith('#'));
  if (bad) throw refuse(tool, `the input schema refers to ${JSON.stringify(bad.slice(0, 200))} outside itself`);
  const clean = { ...s, type: 'object' };
  try {
    checkJsonSchema(clean);
  } catch (err) {
    throw refuse(tool, `the input schema is refused: ${(err as Error).message}`);
  }
  if (toGrammar) {
    let grammar: string;
    try {
      grammar = toGrammar(clean);
    } catch (err) {
      throw refuse(tool, `the input schema cannot be turned into a grammar: ${(err as Error).message.slice(0, 300)}`);
    }
    try {
      checkGrammar(grammar);
    } catch (err) {
      throw refuse(tool, `the input schema gives a grammar that is refused: ${(err as Error).message}`);
    }
  }
  return clean;
}

export function guardDescription(text: unknown): string {
  const s = typeof text === 'string' ? text : '';
  // Control characters other than newlines and tabs have no place in a prompt.
  const cleaned = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return cleaned.length > MAX_TOOL_DESCRIPTION ? `${cleaned.slice(0, MAX_TOOL_DESCRIPTION - 1)}…` : cleaned;
}

/**
 * The name the model sees: `mcp_<server>_<tool>`, lowercase snake_case within 64 characters (the
 * registry's rule), so no MCP tool can shadow one of ours or another server's. A name that had to be
 * shortened or changed keeps a short hash of the original, so two tools never collapse into one.
 */
export function namespacedToolName(server: string, tool: string): string {
  const norm = (x: string) => x.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  const base = `mcp_${norm(server) || 'server'}_${norm(tool) || 'tool'}`;
  const exact = base === `mcp_${server.replace(/-/g, '_')}_${tool}`;
  if (exact && base.length <= 64) return base;
  const hash = createHash('sha256').update(`${server}\0${tool}`).digest('hex').slice(0, 6);
  return `${base.slice(0, 57).replace(/_+$/, '')}_${hash}`;
}
