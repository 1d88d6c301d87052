// Up-front checks of caller-supplied GBNF grammars and JSON schemas. The pinned llama.cpp hangs or aborts
// the whole process on some inputs it accepts as valid: a reversed repetition `x{2,1}` makes
// handle_repetitions compute `max - min` in uint64 and add rules forever, a JSON schema whose integer range
// is empty converts to a grammar that no token satisfies and aborts the sampler, and deep nesting recurses
// in the native parsers until the stack runs out. These scanners refuse such input with a typed
// `invalid_params` error that says where the problem is. They are deliberately not full parsers: anything
// merely malformed is left to llama.cpp, which reports it as an ordinary error.
//
// Pure TypeScript (no Node APIs): src/server/schemas.ts uses it in request validation.
import type { z } from 'zod';
import { WestfallError, isWestfallError } from '../errors.js';

/** llama.cpp's MAX_REPETITION_THRESHOLD (src/llama-grammar.cpp): above it `{m}` fails and `{m,n}` is silently unbounded. */
export const MAX_REPETITION = 2000;
/**
 * Parse time and memory grow with the text; /v1 tool grammars for a large tool set (128 functions) reach a
 * few hundred KiB, so the bound sits above that.
 */
export const MAX_GRAMMAR_BYTES = 1024 * 1024;
/** Parenthesis nesting: each level is a native recursion in parse_alternates. */
export const MAX_GRAMMAR_NESTING = 256;
/**
 * Sum over all repetitions of (count × rough item size): the parser materializes each repetition, so a
 * short grammar of many `"abc"{2000}` would otherwise take gigabytes.
 */
export const MAX_REPETITION_EXPANSION = 1_000_000;
/**
 * Alternatives of one rule or group. The sampler keeps one stack per alternative and tests every
 * vocabulary token against each of them for every token it samples: measured on a busy 2-core machine
 * with a 151k-token vocabulary, 128 alternatives cost 2.6 s for a 1-token reply, 1024 cost 18 s, 1000
 * enum values over 60 s for 6 tokens and 5000 alternatives over 20 s per token, holding a sequence all
 * that time (a client that goes away frees it only between tokens). 256 leaves room for the largest tool
 * set (128 functions) and keeps a short reply within a minute there.
 */
export const MAX_GRAMMAR_ALTERNATIVES = 256;
/** enum values and anyOf/oneOf branches: each becomes one alternative of the converted grammar. */
export const MAX_SCHEMA_ALTERNATIVES = MAX_GRAMMAR_ALTERNATIVES;
/** Schema nesting: each level is a native recursion in the schema builder and the converter. */
export const MAX_SCHEMA_DEPTH = 64;
/** Schema objects visited, $defs included. */
export const MAX_SCHEMA_NODES = 20_000;
/** llama.cpp reads counts with get<int>(); a larger one wraps around to a small or negative number. */
const MAX_COUNT = 0x7fffffff;
/** Integer bounds are read as int64. */
const MAX_INT64 = 9_223_372_036_854_775_807;

function invalid(message: string, details: Record<string, unknown>): WestfallError {
  return new WestfallError('invalid_params', message, { details });
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** "line 3, column 7" for a UTF-16 offset into `text`. */
function where(text: string, offset: number): { line: number; column: number; text: string } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  const column = offset - lineStart + 1;
  return { line, column, text: `line ${line}, column ${column}` };
}

// ---------------------------------------------------------------------------------------------------
// GBNF

/**
 * Throws `invalid_params` for a grammar that llama.cpp would hang on, or that would take unbounded memory
 * or stack: a repetition `{m,n}` with m > n, a minimum above MAX_REPETITION (which llama.cpp refuses with a
 * vaguer message; a larger maximum it treats as none, so that stays allowed), too much repetition overall,
 * more than MAX_GRAMMAR_ALTERNATIVES alternatives in one rule or group (a sampler that crawls),
 * unbalanced or too deeply nested parentheses, or a text over MAX_GRAMMAR_BYTES.
 */
export function checkGrammar(gbnf: string): void {
  if (typeof gbnf !== 'string') throw invalid('the grammar must be a string', {});
  const bytes = utf8Length(gbnf);
  if (bytes > MAX_GRAMMAR_BYTES) {
    throw invalid(`the grammar is ${bytes} bytes long, over the limit of ${MAX_GRAMMAR_BYTES}`, { bytes, limit: MAX_GRAMMAR_BYTES });
  }
  const fail = (offset: number, message: string): never => {
    const at = where(gbnf, offset);
    throw invalid(`grammar error at ${at.text}: ${message}`, { line: at.line, column: at.column, offset });
  };

  const open: number[] = [];
  // Alternatives so far of the rule being read ([0]) and of each open group.
  const alternatives: number[] = [1];
  // Start offset and rough size of the item a repetition would apply to, and of each open group.
  let lastItem: { start: number; size: number } | null = null;
  let expansion = 0;
  const n = gbnf.length;
  let i = 0;
  while (i < n) {
    const c = gbnf[i]!;
    if (c === '#') {
      while (i < n && gbnf[i] !== '\n' && gbnf[i] !== '\r') i++;
    } else if (c === '"') {
      const start = i++;
      let size = 0;
      while (i < n && gbnf[i] !== '"') {
        i += gbnf[i] === '\\' ? 2 : 1;
        size++;
      }
      if (i >= n) fail(start, 'unterminated string literal');
      i++;
      lastItem = { start, size: Math.max(1, size) };
    } else if (c === '[') {
      const start = i++;
      while (i < n && gbnf[i] !== ']') i += gbnf[i] === '\\' ? 2 : 1;
      if (i >= n) fail(start, "unterminated character class (missing ']')");
      i++;
      lastItem = { start, size: 1 };
    } else if (c === '<' || (c === '!' && gbnf[i + 1] === '<')) {
      const start = i;
      const end = gbnf.indexOf('>', i);
      if (end < 0) fail(start, "unterminated token reference (missing '>')");
      i = end + 1;
      lastItem = { start, size: 1 };
    } else if (c === '(') {
      open.push(i);
      alternatives.push(1);
      if (open.length > MAX_GRAMMAR_NESTING) fail(i, `parentheses nested deeper than ${MAX_GRAMMAR_NESTING}`);
      i++;
      lastItem = null;
    } else if (c === ')') {
      const start = open.pop();
      if (start === undefined) fail(i, "unbalanced ')' without a matching '('");
      alternatives.pop();
      i++;
      // A group is referenced through one generated rule, so repeating it copies one element.
      lastItem = { start: start!, size: 1 };
    } else if (c === '{') {
      const rep = readRepetition(gbnf, i);
      if (!rep) fail(i, 'malformed repetition, expected {m}, {m,} or {m,n}');
      const { min, max, end } = rep!;
      const text = gbnf.slice(i, end);
      if (min > MAX_REPETITION) fail(i, `repetition ${text} exceeds the limit of ${MAX_REPETITION} repetitions`);
      if (max !== null && min > max) fail(i, `repetition ${text}: the minimum ${min} is greater than the maximum ${max}`);
      // llama.cpp treats a maximum above the limit as no maximum, which costs one rule, not millions.
      const times = Math.max(1, max !== null && max <= MAX_REPETITION ? max : min);
      const size: number = (lastItem?.size ?? 1) * times;
      expansion += size;
      if (expansion > MAX_REPETITION_EXPANSION) {
        fail(i, `the grammar's repetitions expand to more than ${MAX_REPETITION_EXPANSION} elements`);
      }
      // Repeating a repetition multiplies: "a"{10}{10} materializes 100 copies.
      if (lastItem) lastItem = { start: lastItem.start, size };
      i = end;
    } else if (c === '.') {
      lastItem = { start: i++, size: 1 };
    } else if (c === '|') {
      const n = ++alternatives[alternatives.length - 1]!;
      if (n > MAX_GRAMMAR_ALTERNATIVES) {
        fail(i, `more than ${MAX_GRAMMAR_ALTERNATIVES} alternatives in one ${open.length > 0 ? 'group' : 'rule'}: the sampler tests every token against each of them`);
      }
      lastItem = null;
      i++;
    } else if (c === ':' && gbnf.startsWith('::=', i)) {
      // A new rule (a ')' missing before it is reported at the end, as before).
      alternatives[0] = 1;
      lastItem = null;
      i += 3;
    } else if (isNameChar(c)) {
      const start = i;
      while (i < n && isNameChar(gbnf[i]!)) i++;
      lastItem = { start, size: 1 };
    } else {
      // Quantifiers and spaces keep the item a following {m,n} applies to; anything else ('|', '::=') ends it.
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r' && c !== '*' && c !== '+' && c !== '?') lastItem = null;
      i++;
    }
  }
  if (open.length > 0) fail(open[open.length - 1]!, "unbalanced '(' without a matching ')'");
}

const isNameChar = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '-';

/** `{m}`, `{m,}` or `{m,n}` at `at`, with the spaces and comments llama.cpp's parse_space allows. */
function readRepetition(s: string, at: number): { min: number; max: number | null; end: number } | null {
  let i = at + 1;
  const space = () => {
    while (i < s.length) {
      const c = s[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else if (c === '#') while (i < s.length && s[i] !== '\n' && s[i] !== '\r') i++;
      else break;
    }
  };
  const int = (): number | null => {
    const start = i;
    while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
    if (i === start) return null;
    // Counts past 2^53 lose precision but stay far above the limit, which is all that matters.
    return Number(s.slice(start, i));
  };
  space();
  const min = int();
  if (min === null) return null;
  space();
  if (s[i] === '}') return { min, max: min, end: i + 1 };
  if (s[i] !== ',') return null;
  i++;
  space();
  const max = int();
  space();
  if (s[i] !== '}') return null;
  return { min, max, end: i + 1 };
}

// ---------------------------------------------------------------------------------------------------
// JSON schema

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'items',
  'additionalItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
] as const;
/** Keywords whose value is an array of schemas. */
const SCHEMA_ARRAY_KEYWORDS = ['anyOf', 'oneOf', 'allOf', 'prefixItems', 'items'] as const;
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;

const COUNT_PAIRS = [
  ['minLength', 'maxLength'],
  ['minItems', 'maxItems'],
  ['minProperties', 'maxProperties'],
  ['minContains', 'maxContains'],
] as const;
/** Counts that become a GBNF repetition minimum (the maximum is clamped by llama.cpp instead). */
const REPEATED_MINIMA = new Set(['minLength', 'minItems']);

/**
 * Throws `invalid_params` for a JSON schema that cannot be satisfied in a way that makes llama.cpp's
 * converted grammar empty or pathological: an empty numeric range (minimum > maximum, or no integer
 * between exclusive bounds), min > max of lengths, item or property counts, negative or non-integer counts,
 * non-finite numbers, an empty enum, anyOf/oneOf/allOf or type list, an enum or anyOf/oneOf over
 * MAX_SCHEMA_ALTERNATIVES, a pattern with a reversed or too
 * large `{m,n}`, or a schema nested deeper than MAX_SCHEMA_DEPTH or larger than MAX_SCHEMA_NODES. The
 * message names the JSON path, e.g. `properties.age: minimum 10 is greater than maximum 3`.
 */
export function checkJsonSchema(schema: unknown): void {
  let nodes = 0;
  const fail = (path: string, message: string): never => {
    throw invalid(`${path || '(root)'}: ${message}`, { path: path || '(root)' });
  };
  const join = (path: string, key: string | number) =>
    typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

  const visit = (node: unknown, path: string, depth: number): void => {
    // Boolean schemas (true/false) are valid JSON Schema; llama.cpp reports them itself where unsupported.
    if (!isObject(node)) return;
    if (depth > MAX_SCHEMA_DEPTH) fail(path, `the schema is nested deeper than ${MAX_SCHEMA_DEPTH} levels`);
    if (++nodes > MAX_SCHEMA_NODES) fail(path, `the schema has more than ${MAX_SCHEMA_NODES} subschemas`);
    checkNode(node, path, fail);
    for (const key of SCHEMA_KEYWORDS) {
      if (isObject(node[key])) visit(node[key], join(path, key), depth + 1);
    }
    for (const key of SCHEMA_ARRAY_KEYWORDS) {
      const v = node[key];
      if (!Array.isArray(v)) continue;
      if (v.length === 0 && key !== 'prefixItems' && key !== 'items') fail(join(path, key), `${key} must not be empty`);
      if ((key === 'anyOf' || key === 'oneOf') && v.length > MAX_SCHEMA_ALTERNATIVES) {
        fail(join(path, key), `${key} has ${v.length} branches, over the limit of ${MAX_SCHEMA_ALTERNATIVES}`);
      }
      v.forEach((sub, i) => visit(sub, join(join(path, key), i), depth + 1));
    }
    for (const key of SCHEMA_MAP_KEYWORDS) {
      const v = node[key];
      if (!isObject(v)) continue;
      for (const [name, sub] of Object.entries(v)) visit(sub, join(join(path, key), name), depth + 1);
    }
  };
  if (!isObject(schema)) throw invalid('the JSON schema must be an object', {});
  visit(schema, '', 0);
}

function checkNode(node: Json, path: string, fail: (path: string, message: string) => never): void {
  // Non-finite numbers only reach here from JavaScript callers (JSON has none); JSON.stringify would turn
  // them into null, which means something else entirely.
  for (const [key, v] of Object.entries(node)) {
    if (typeof v === 'number' && !Number.isFinite(v)) fail(path, `${key} must be a finite number, not ${v}`);
  }

  const type = node.type;
  if (Array.isArray(type) && type.length === 0) fail(path, 'type must not be an empty list');
  if ('enum' in node) {
    if (!Array.isArray(node.enum)) fail(path, 'enum must be an array');
    if ((node.enum as unknown[]).length === 0) fail(path, 'enum must not be empty: no value would be allowed');
    if ((node.enum as unknown[]).length > MAX_SCHEMA_ALTERNATIVES) {
      fail(path, `enum has ${(node.enum as unknown[]).length} values, over the limit of ${MAX_SCHEMA_ALTERNATIVES}: each is an alternative the sampler tests every token against`);
    }
  }

  for (const [minKey, maxKey] of COUNT_PAIRS) {
    const min = count(node, minKey, path, fail);
    const max = count(node, maxKey, path, fail);
    if (min !== undefined && max !== undefined && min > max) fail(path, `${minKey} ${min} is greater than ${maxKey} ${max}`);
    if (min !== undefined && min > MAX_REPETITION && REPEATED_MINIMA.has(minKey)) {
      fail(path, `${minKey} ${min} exceeds the limit of ${MAX_REPETITION} that a grammar can enforce`);
    }
  }

  checkRange(node, path, fail);
  if (typeof node.pattern === 'string') checkPattern(node.pattern, path, fail);
}

function count(node: Json, key: string, path: string, fail: (path: string, message: string) => never): number | undefined {
  const v = node[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(path, `${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  if ((v as number) > MAX_COUNT) fail(path, `${key} ${v} is too large (at most ${MAX_COUNT})`);
  return v as number;
}

function isIntegerType(type: unknown): boolean {
  return type === 'integer' || (Array.isArray(type) && type.includes('integer'));
}

function checkRange(node: Json, path: string, fail: (path: string, message: string) => never): void {
  const num = (key: string): number | undefined => (typeof node[key] === 'number' ? (node[key] as number) : undefined);
  const minimum = num('minimum');
  const maximum = num('maximum');
  // Draft 4 spells exclusive bounds as booleans that qualify minimum/maximum.
  const exMinFlag = node.exclusiveMinimum === true;
  const exMaxFlag = node.exclusiveMaximum === true;
  const exMin = num('exclusiveMinimum');
  const exMax = num('exclusiveMaximum');

  // The tightest lower and upper bound, and the keyword each comes from (for the message).
  let lo: { value: number; exclusive: boolean; text: string } | null = null;
  let hi: { value: number; exclusive: boolean; text: string } | null = null;
  if (minimum !== undefined) lo = { value: minimum, exclusive: exMinFlag, text: `${exMinFlag ? 'exclusive ' : ''}minimum ${minimum}` };
  if (exMin !== undefined && (!lo || exMin >= lo.value)) lo = { value: exMin, exclusive: true, text: `exclusiveMinimum ${exMin}` };
  if (maximum !== undefined) hi = { value: maximum, exclusive: exMaxFlag, text: `${exMaxFlag ? 'exclusive ' : ''}maximum ${maximum}` };
  if (exMax !== undefined && (!hi || exMax <= hi.value)) hi = { value: exMax, exclusive: true, text: `exclusiveMaximum ${exMax}` };

  if (isIntegerType(node.type)) {
    for (const b of [lo, hi]) {
      if (b && Math.abs(b.value) >= MAX_INT64) fail(path, `${b.text} is outside the 64-bit integer range`);
    }
  }
  if (!lo || !hi) return;
  if (lo.value > hi.value) fail(path, `${lo.text} is greater than ${hi.text}`);
  if (lo.value === hi.value && (lo.exclusive || hi.exclusive)) fail(path, `${lo.text} and ${hi.text} leave no value`);
  if (isIntegerType(node.type)) {
    // As llama.cpp does: fractional bounds round inwards, exclusive ones step past the bound.
    const first = lo.exclusive ? Math.floor(lo.value) + 1 : Math.ceil(lo.value);
    const last = hi.exclusive ? Math.ceil(hi.value) - 1 : Math.floor(hi.value);
    if (first > last) fail(path, `no integer satisfies ${lo.text} and ${hi.text}`);
  }
}

/**
 * A regex quantifier `{m,n}` becomes the same GBNF repetition, so the reversed and oversized ones must be
 * caught here too. Escapes and character classes are skipped; counts are read as llama.cpp's stoi does.
 */
function checkPattern(pattern: string, path: string, fail: (path: string, message: string) => never): void {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c !== '{') continue;
    const close = pattern.indexOf('}', i);
    if (close < 0) return;
    const body = pattern.slice(i + 1, close);
    const parts = body.split(',');
    if (parts.length > 2) continue;
    const read = (s: string): number | null => {
      const m = /^\s*[+-]?\d+/.exec(s);
      return m ? Number(m[0]) : null;
    };
    const min = parts[0] === '' ? 0 : read(parts[0]!);
    const max = parts.length === 1 ? min : parts[1] === '' ? null : read(parts[1]!);
    const text = `{${body}}`;
    if (min !== null && min > MAX_REPETITION) fail(path, `pattern quantifier ${text} exceeds the limit of ${MAX_REPETITION} repetitions`);
    if (min !== null && max !== null && min > max) fail(path, `pattern quantifier ${text}: the minimum ${min} is greater than the maximum ${max}`);
    i = close;
  }
}

// ---------------------------------------------------------------------------------------------------
// zod glue

/** A zod superRefine callback that turns a checker's `invalid_params` into an issue on the field. */
export function refineWith<T>(check: (value: T) => void): (value: T, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    try {
      check(value);
    } catch (err) {
      if (!isWestfallError(err, 'invalid_params')) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  };
}
