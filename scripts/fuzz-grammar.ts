// Fuzzing of the grammars and JSON schemas that callers hand to llama.cpp: random and mutated GBNF
// grammars as `params.grammar` on POST /api/llm/chat, and JSON schemas as `params.jsonSchema` there, as
// `response_format: { type: 'json_schema' }` and as tool `parameters` on POST /v1/chat/completions, with
// pathological shapes among them (reversed and huge repetitions, min > max, deep nesting, recursive $ref,
// unknown types, enormous enums, empty alternatives, unicode ranges). The service runs in a child process
// (scripts/fuzz-harness.ts), so an abort inside llama.cpp is reported as a crash.
//
//   npx tsx scripts/fuzz-grammar.ts [--cases 2000] [--seed 1] [--case N] [--limit 60] [--verbose] [--json FILE]
//
// The property: 200, or 4xx with a typed error in the route's error shape; never a 5xx, a crash or a hang.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FUZZ_TOKEN, FuzzServer, Random, caseRng, checkHttpAnswer, clip, sendHttp, type HttpRequestSpec } from './fuzz-harness.js';

// ---------------------------------------------------------------------------------------------------
// GBNF

const COUNTS = [0, 1, 2, 3, 5, 17, 100, 1999, 2000, 2001, 65_535, 1_000_000, 4_294_967_296, 99_999_999_999_999_999_999];

function quantifier(r: Random): string {
  return r.weighted<() => string>([
    [10, () => ''],
    [3, () => r.pick(['*', '+', '?'])],
    [1, () => r.pick(['**', '+?', '*+', '??'])],
    [2, () => `{${r.pick(COUNTS)}}`],
    [2, () => `{${r.pick(COUNTS)},}`],
    [3, () => `{${r.pick(COUNTS)},${r.pick(COUNTS)}}`],
    [1, () => r.pick(['{}', '{,}', '{,3}', '{-1}', '{1,-1}', '{ 2 , 1 }', '{2 # c\n,1}', '{1,2,3}', '{a}', '{'])],
  ])();
}

const LITERAL_PIECES = ['a', 'b', 'xyz', ' ', '{', '}', '"', '\\"', '\\\\', '\\n', '\\t', '\\r', '\\x41', '\\x00', '\\u00e9', '\\U0001F600', '\\U0010FFFF', '\\uD800', '\\q', '\\x', '\\xZZ', '\\u12', 'é', '中', '😀', '\u202e', '<', '>', '|', '::=', '#'];

function literal(r: Random): string {
  const n = r.weighted([
    [1, 0],
    [6, r.int(1, 4)],
    [1, r.int(5, 40)],
  ] as const);
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick(LITERAL_PIECES.filter((p) => p !== '"'));
  return `"${s}"`;
}

const CLASS_PIECES = ['a-z', 'A-Z', '0-9', '_', ' ', '\\t', '\\n', '\\]', '\\\\', '-', '^', 'z-a', '\\x00-\\x7F', '\\u0080-\\uFFFF', '\\U00010000-\\U0010FFFF', '\\x00-\\U0010FFFF', '\\U0010FFFF-\\x00', 'é', '😀-😂', '\\uD800-\\uDFFF', '[', '\\'];

function charClass(r: Random): string {
  const neg = r.chance(0.3) ? '^' : '';
  const n = r.int(0, 4);
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick(CLASS_PIECES);
  return `[${neg}${s}]`;
}

function item(r: Random, rules: string[], depth: number): string {
  const base = r.weighted<() => string>([
    [6, () => literal(r)],
    [4, () => charClass(r)],
    [4, () => r.pick(rules)],
    [1, () => r.pick(['undefined-rule', 'Root', 'root-', '-', '1x', 'a_b'])],
    [1, () => '.'],
    [depth < 6 ? 3 : 0, () => `(${alternatives(r, rules, depth + 1)})`],
    [1, () => r.pick(['<think>', '</think>', '<|endoftext|>', '<|im_end|>', '<[0]>', '<[151643]>', '<[999999999]>', '<[-1]>', '!<[0]>', '!<|endoftext|>', '<unknown>', '<[', '<>'])],
  ])();
  return base + quantifier(r);
}

function alternatives(r: Random, rules: string[], depth: number): string {
  const n = r.weighted([
    [6, 1],
    [3, 2],
    [1, r.int(3, 8)],
  ] as const);
  const alts: string[] = [];
  for (let i = 0; i < n; i++) {
    // An empty alternative ("a" | ) is allowed GBNF; a fully empty rule body is not.
    const len = r.weighted([
      [1, 0],
      [8, r.int(1, 3)],
      [1, r.int(4, 10)],
    ] as const);
    alts.push(Array.from({ length: len }, () => item(r, rules, depth)).join(' '));
  }
  return alts.join(r.chance(0.9) ? ' | ' : '\n  | ');
}

function randomGrammar(r: Random): string {
  const names = ['root', ...Array.from({ length: r.int(0, 5) }, (_, i) => r.pick(['a', 'b', 'value', 'ws', 'item', 'x-y']) + i)];
  const lines = names.map((name) => `${name} ::= ${alternatives(r, names, 0)}`);
  if (r.chance(0.1)) lines.push(`${r.pick(names)} ::= ${alternatives(r, names, 0)}`); // a rule defined twice
  if (r.chance(0.1)) lines.splice(0, 1); // no root
  if (r.chance(0.1)) lines.push(`# comment ${'é'.repeat(r.int(0, 5))}`);
  return lines.join(r.chance(0.9) ? '\n' : '\r\n');
}

/** Grammars known to reach dangerous code in llama.cpp's parser, the sampler or the checker. */
const GRAMMAR_SPECIALS: (() => string)[] = [
  () => 'root ::= "a"{2,1}',
  () => 'root ::= "a"{ 5 , 0 }',
  () => 'root ::= "a"{99999999}',
  () => 'root ::= "a"{2001}',
  () => 'root ::= "a"{0,99999999999999999999}',
  () => 'root ::= "a"{1,2000}',
  () => 'root ::= ("a"{2000}){2000}',
  () => 'root ::= "a"{10}{10}{10}{10}{10}',
  () => 'root ::= x{2000}\nx ::= "abcdefghij"{500}',
  () => `root ::= ${'('.repeat(256)}"a"${')'.repeat(256)}`,
  () => `root ::= ${'('.repeat(257)}"a"${')'.repeat(257)}`,
  () => `root ::= ${'('.repeat(5000)}`,
  () => `root ::= ${')'.repeat(3)}`,
  () => 'root ::= root "a"',
  () => 'root ::= a\na ::= b\nb ::= root',
  () => 'root ::= a | "x"\na ::= a "y"',
  () => 'root ::= "a" root',
  () => 'root ::= "" ',
  () => 'root ::= ""*',
  () => 'root ::= ("")*',
  () => 'root ::= ("" | "a")*',
  () => 'root ::= ("a"?)*',
  () => 'root ::= ("a"*)*',
  () => 'root ::= ("a"*){2000}',
  () => 'root ::= |',
  () => 'root ::= "a" |',
  () => 'root ::= | | |',
  () => 'root ::=',
  () => 'root ::= ()',
  () => '',
  () => ' ',
  () => '\u0000',
  () => 'root ::= "a\u0000b"',
  () => 'root',
  () => '::=',
  () => 'root ::= undefined',
  () => 'root ::= [',
  () => 'root ::= "',
  () => 'root ::= "\\',
  () => 'root ::= []',
  () => 'root ::= [^]',
  () => 'root ::= [^\\x00-\\U0010FFFF]',
  () => 'root ::= [\\U0010FFFF-\\x00]',
  () => 'root ::= [z-a]',
  () => 'root ::= [\\uD800-\\uDFFF]+',
  () => 'root ::= [\\U00110000]',
  () => 'root ::= "\\U7FFFFFFF"',
  () => 'root ::= "\\xFF\\xFE"',
  () => 'root ::= [😀-😂]+',
  () => 'root ::= [\u0000-\uffff]',
  () => 'root ::= .*',
  () => 'root ::= .{2000}',
  () => 'root ::= <[999999999]>',
  () => 'root ::= <[-1]>',
  () => 'root ::= !<[0]>*',
  () => 'root ::= <|endoftext|>',
  () => 'root ::= <think>',
  () => 'root ::= <nonexistent-token>',
  () => 'root ::= "a"\nroot ::= "b"',
  () => 'a ::= "x"',
  () => 'root ::= "a" # comment without newline',
  () => 'root ::= "x"'.repeat(2000),
  () => `root ::= ${Array.from({ length: 5000 }, (_, i) => `"${i}"`).join(' | ')}`,
  () => `root ::= ${Array.from({ length: 256 }, (_, i) => `"${i}"`).join(' | ')}`,
  () => `root ::= (${Array.from({ length: 257 }, (_, i) => `"${i}"`).join(' | ')})`,
  () => `root ::= a | b\na ::= ${Array.from({ length: 200 }, (_, i) => `"a${i}"`).join(' | ')}\nb ::= ${Array.from({ length: 200 }, (_, i) => `"b${i}"`).join(' | ')}`,
  () => `root ::= r0\n${Array.from({ length: 3000 }, (_, i) => `r${i} ::= "a" r${i + 1} | "b"`).join('\n')}\nr3000 ::= "z"`,
  () => `root ::= ${'"a" '.repeat(100_000)}`,
  () => `root ::= "${'é'.repeat(600_000)}"`,
];

const MUTATION_CHARS = ['{', '}', '(', ')', '[', ']', '|', '"', '\\', '*', '+', '?', '<', '>', '!', '#', ':', '=', '::=', '-', '\n', ' ', '^', '.', '0', '9', '2000', ',', 'é', '😀', '\u0000', '\ud800'];

function mutateText(r: Random, s: string): string {
  const n = r.int(1, 4);
  for (let i = 0; i < n; i++) {
    const at = r.int(0, s.length);
    switch (r.int(0, 3)) {
      case 0:
        s = s.slice(0, at) + r.pick(MUTATION_CHARS) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + r.int(1, 5));
        break;
      case 2: {
        const len = r.int(1, 20);
        s = s.slice(0, at) + s.slice(at, at + len).repeat(r.pick([2, 3, 50])) + s.slice(at + len);
        break;
      }
      default: {
        const b = r.int(0, s.length);
        s = s.slice(0, at) + s.slice(b, b + 10) + s.slice(at);
      }
    }
  }
  return s;
}

export function makeGrammar(r: Random): { grammar: string; how: string } {
  return r.weighted<() => { grammar: string; how: string }>([
    [5, () => ({ grammar: randomGrammar(r), how: 'random' })],
    [3, () => ({ grammar: r.pick(GRAMMAR_SPECIALS)(), how: 'special' })],
    [3, () => ({ grammar: mutateText(r, randomGrammar(r)), how: 'mutated random' })],
    [2, () => ({ grammar: mutateText(r, r.pick(GRAMMAR_SPECIALS)()), how: 'mutated special' })],
  ])();
}

// ---------------------------------------------------------------------------------------------------
// JSON schema

type Schema = Record<string, unknown>;
const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'];
const NUMBERS = [0, 1, -1, 3, 10, 0.5, -0.5, 1e-9, 2 ** 31, 2 ** 53, 2 ** 63, -(2 ** 63), 9_223_372_036_854_775_807, 1e21, 1e308, -1e308];
const PATTERNS = ['^[a-z]+$', '\\d{3}-\\d{4}', '(', ')', '[', '[z-a]', '\\', 'a{2,1}', 'a{99999}', 'a{2001,}', 'a{,5}', '^(a+)+$', '\\p{L}+', '(?=a)a', '(?<n>a)\\k<n>', '.*', '^$', '[^\\x00-\\x{10FFFF}]', '😀{3}', '\\u0000', '$^', '|', '()*', '(a|)*{2000}'];
const FORMATS = ['date', 'time', 'date-time', 'uuid', 'email', 'uri', 'ipv4', 'nope', ''];

function randomKeywordValue(r: Random, depth: number): unknown {
  return r.weighted<() => unknown>([
    [3, () => r.pick(NUMBERS)],
    [2, () => r.pick(['x', '', 'string', '#', '#/$defs/a', null, true, false])],
    [2, () => randomSchema(r, depth + 1)],
    [1, () => [randomSchema(r, depth + 1), r.pick(NUMBERS)]],
    [1, () => []],
  ])();
}

export function randomSchema(r: Random, depth = 0): unknown {
  if (depth > 5 || r.chance(0.05)) return r.pick<unknown>([true, false, {}, { type: r.pick(TYPES) }]);
  const s: Schema = {};
  const type = r.weighted<() => unknown>([
    [10, () => r.pick(TYPES)],
    [2, () => [r.pick(TYPES), r.pick(TYPES)]],
    [1, () => r.pick(['unknown', 'String', 'float', 42, null, [], ['string', 'nope']])],
    [2, () => undefined],
  ])();
  if (type !== undefined) s.type = type;
  const t = Array.isArray(type) ? type[0] : type;
  const n = r.int(0, 4);
  for (let i = 0; i < n; i++) {
    const kw = r.pick([
      'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'format',
      'enum', 'const', 'minItems', 'maxItems', 'uniqueItems', 'items', 'prefixItems', 'properties', 'required', 'additionalProperties',
      'minProperties', 'maxProperties', 'anyOf', 'oneOf', 'allOf', 'not', '$ref', '$defs', 'default', 'description', 'title',
      'patternProperties', 'propertyNames', 'if', 'then', 'else', 'dependentRequired', 'contains', 'minContains',
    ]);
    switch (kw) {
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
      case 'multipleOf':
        s[kw] = r.chance(0.85) ? r.pick(NUMBERS) : r.pick([true, false, '5', null]);
        break;
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
      case 'minProperties':
      case 'maxProperties':
      case 'minContains':
        s[kw] = r.chance(0.85) ? r.pick([0, 1, 2, 3, 5, 100, 2000, 2001, 2 ** 31, -1, 1.5, 1e300]) : r.pick(['3', null, true]);
        break;
      case 'pattern':
        s.pattern = r.chance(0.9) ? r.pick(PATTERNS) : mutateText(r, r.pick(PATTERNS));
        break;
      case 'format':
        s.format = r.pick(FORMATS);
        break;
      case 'enum':
        s.enum = r.weighted<() => unknown>([
          [4, () => Array.from({ length: r.int(1, 5) }, () => r.pick<unknown>(['a', 'b', 1, 2.5, null, true, {}, [1], { k: 'v' }, 'é"\\', '']))],
          [1, () => []],
          [1, () => Array.from({ length: r.pick([200, 256, 257, 1000, 20_000]) }, (_, k) => `value-${k}`)],
          [1, () => r.pick(['abc', null, 5, {}])],
        ])();
        break;
      case 'const':
        s.const = r.pick<unknown>(['x', 1, null, { a: [1, { b: 'c' }] }, [], '"\\']);
        break;
      case 'uniqueItems':
        s.uniqueItems = r.pick([true, false, 'yes']);
        break;
      case 'items':
      case 'not':
      case 'additionalProperties':
      case 'propertyNames':
      case 'if':
      case 'then':
      case 'else':
      case 'contains':
        s[kw] = r.chance(0.8) ? randomSchema(r, depth + 1) : r.pick([true, false, [], null, 'x']);
        break;
      case 'prefixItems':
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
        s[kw] = r.chance(0.9) ? Array.from({ length: r.int(0, 4) }, () => randomSchema(r, depth + 1)) : r.pick([{}, null, 'x']);
        break;
      case 'properties':
      case 'patternProperties':
      case '$defs': {
        const props: Schema = {};
        const k = r.weighted([
          [8, r.int(0, 5)],
          [1, r.pick([500, 3000])],
        ] as const);
        for (let j = 0; j < k; j++) props[j < 6 ? r.pick(['a', 'b', 'name', '', '"\\', 'é', '__proto__', 'a b', '$ref', '0']) + (j > 5 ? j : '') : `p${j}`] = k > 50 ? { type: 'string' } : randomSchema(r, depth + 1);
        s[kw] = r.chance(0.95) ? props : r.pick([[], null, 'x']);
        break;
      }
      case 'required':
        s.required = r.chance(0.8) ? Array.from({ length: r.int(0, 3) }, () => r.pick(['a', 'b', 'name', 'missing', ''])) : r.pick(['a', [1, 2], null]);
        break;
      case 'dependentRequired':
        s.dependentRequired = { a: ['b'] };
        break;
      case '$ref':
        s.$ref = r.pick<unknown>(['#', '#/$defs/a', '#/$defs/b', '#/definitions/a', '#/properties/a', '#/nope', 'http://example.com/s.json', 'other.json#/x', '#/$defs/%25', '', 42, null]);
        if (r.chance(0.5)) s.$defs = { a: r.chance(0.5) ? { $ref: '#/$defs/a' } : randomSchema(r, depth + 1), b: { type: 'object', properties: { next: { $ref: '#/$defs/b' } } } };
        break;
      default:
        s[kw] = randomKeywordValue(r, depth);
    }
  }
  if (t === 'object' && !('properties' in s) && r.chance(0.5)) s.properties = { a: randomSchema(r, depth + 1) };
  if (t === 'array' && !('items' in s) && r.chance(0.5)) s.items = randomSchema(r, depth + 1);
  return s;
}

function nested(depth: number, kind: 'properties' | 'items' | 'anyOf' | 'allOf' | 'not'): Schema {
  let s: Schema = { type: 'string' };
  for (let i = 0; i < depth; i++) {
    if (kind === 'properties') s = { type: 'object', properties: { a: s }, required: ['a'] };
    else if (kind === 'items') s = { type: 'array', items: s, minItems: 1 };
    else if (kind === 'not') s = { not: s };
    else s = { [kind]: [s] };
  }
  return s;
}

/** Schemas known to reach dangerous code in llama.cpp's converter, the sampler or the checker. */
const SCHEMA_SPECIALS: (() => unknown)[] = [
  () => ({ type: 'integer', minimum: 10, maximum: 3 }),
  () => ({ type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 1 }),
  () => ({ type: 'integer', minimum: 0.5, maximum: 0.7 }),
  () => ({ type: 'number', minimum: 1e308, maximum: 1e308 }),
  () => ({ type: 'integer', minimum: -9_223_372_036_854_775_808 }),
  () => ({ type: 'integer', maximum: 9_223_372_036_854_775_807 }),
  () => ({ type: 'integer', minimum: -(2 ** 62), maximum: 2 ** 62 }),
  () => ({ type: 'integer', minimum: 123456789, maximum: 123456790 }),
  () => ({ type: 'number', multipleOf: 0 }),
  () => ({ type: 'string', minLength: 5, maxLength: 2 }),
  () => ({ type: 'string', minLength: 2000 }),
  () => ({ type: 'string', minLength: 2001 }),
  () => ({ type: 'string', maxLength: 2 ** 31 }),
  () => ({ type: 'string', minLength: 1.5 }),
  () => ({ type: 'string', minLength: -1 }),
  () => ({ type: 'array', minItems: 3000, items: { type: 'integer' } }),
  () => ({ type: 'array', minItems: 2000, items: { type: 'array', minItems: 2000, items: { type: 'string' } } }),
  () => ({ type: 'array', maxItems: 1e9 }),
  () => ({ type: 'object', minProperties: 5, maxProperties: 1 }),
  () => ({ type: 'object', required: ['x'], additionalProperties: false }),
  () => ({ type: 'object', properties: { '': { type: 'string' }, '"\\\n': { type: 'integer' } }, required: ['', '"\\\n'] }),
  () => ({ $ref: '#' }),
  () => ({ $ref: '#/$defs/a', $defs: { a: { $ref: '#/$defs/a' } } }),
  () => ({ $ref: '#/$defs/a', $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } } }),
  () => ({ $ref: '#/$defs/node', $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } }, required: ['next'] } } }),
  () => ({ type: 'object', properties: { a: { $ref: '#' } }, required: ['a'] }),
  () => ({ $ref: 'http://example.com/schema.json' }),
  () => ({ $ref: '#/definitions/missing' }),
  () => ({ $ref: 42 }),
  () => ({ $ref: '#/properties/a/items/0' }),
  () => ({ type: 'unknown' }),
  () => ({ type: 42 }),
  () => ({ type: [] }),
  () => ({ type: ['string', 'string'] }),
  () => ({ enum: [] }),
  () => ({ enum: 'abc' }),
  () => ({ enum: Array.from({ length: 20_000 }, (_, i) => `value-${i}`) }),
  () => ({ enum: Array.from({ length: 5000 }, (_, i) => ({ k: i, v: [i, `${i}`] })) }),
  () => ({ enum: [{}, [], null, 1.5, 'x', true, { a: { b: [1, 2, { c: null }] } }] }),
  () => ({ const: { a: [1, { b: 'c' }] } }),
  () => ({ anyOf: [] }),
  () => ({ oneOf: [] }),
  () => ({ allOf: [] }),
  () => ({ allOf: [{ type: 'string' }, { type: 'integer' }] }),
  () => ({ not: {} }),
  () => ({ type: 'string', pattern: '(' }),
  () => ({ type: 'string', pattern: 'a{2,1}' }),
  () => ({ type: 'string', pattern: 'a{99999}' }),
  () => ({ type: 'string', pattern: '[z-a]' }),
  () => ({ type: 'string', pattern: '\\' }),
  () => ({ type: 'string', pattern: '^(a+)+$' }),
  () => ({ type: 'string', pattern: `${'('.repeat(300)}a${')'.repeat(300)}` }),
  () => ({ type: 'string', pattern: 'a{1000}{1000}' }),
  () => ({ type: 'string', pattern: '[\\u0000-\\uFFFF]{2000}' }),
  () => ({ type: 'string', format: 'nope' }),
  () => ({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false }),
  () => ({ type: 'array', items: [] }),
  () => ({ type: 'array', items: false, minItems: 1 }),
  () => ({ type: 'object', properties: null }),
  () => ({ type: 'object', properties: { a: null } }),
  () => ({ type: 'object', properties: { a: false }, required: ['a'] }),
  () => ({ type: 'object', additionalProperties: { type: 'integer', minimum: 5, maximum: 1 } }),
  () => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`p${i}`, { type: 'integer' }])), required: Array.from({ length: 3000 }, (_, i) => `p${i}`) }),
  () => nested(63, 'properties'),
  () => nested(64, 'properties'),
  () => nested(65, 'properties'),
  () => nested(500, 'items'),
  () => nested(64, 'anyOf'),
  () => nested(64, 'not'),
  () => nested(1500, 'allOf'),
  () => ({ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'array', items: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^\\d+$' }] } } } } } }),
  () => ({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'integer', minimum: 3, exclusiveMinimum: true, maximum: 3 }),
  () => ({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'integer', minimum: 3, maximum: 4, exclusiveMinimum: true, exclusiveMaximum: true }),
  () => ({ if: { type: 'string' }, then: { minLength: 3 }, else: { type: 'integer' } }),
  () => ({ type: ['string', 'null'], minLength: 3, maxLength: 1 }),
];

export function makeSchema(r: Random): { schema: unknown; how: string } {
  return r.weighted<() => { schema: unknown; how: string }>([
    [5, () => ({ schema: randomSchema(r), how: 'random' })],
    [3, () => ({ schema: r.pick(SCHEMA_SPECIALS)(), how: 'special' })],
    [1, () => {
      // A special inside a random object schema, where the converter reaches it through a property.
      const outer = { type: 'object', properties: { a: r.pick(SCHEMA_SPECIALS)(), b: randomSchema(r, 3) }, required: ['a'] };
      return { schema: outer, how: 'special inside' };
    }],
  ])();
}

// ---------------------------------------------------------------------------------------------------
// Cases

export interface GrammarCase {
  index: number;
  target: 'chat grammar' | 'chat jsonSchema' | 'v1 response_format' | 'v1 tools';
  how: string;
  spec: HttpRequestSpec;
}

const MESSAGES = [{ role: 'user', content: 'Answer in JSON.' }];

export function makeGrammarCase(seed: number, index: number): GrammarCase {
  const r = new Random(caseRng(seed, index));
  const target = r.weighted<GrammarCase['target']>([
    [4, 'chat grammar'],
    [2, 'chat jsonSchema'],
    [2, 'v1 response_format'],
    [2, 'v1 tools'],
  ]);
  const maxTokens = r.int(1, 8);
  let body: unknown;
  let path: string;
  let how: string;
  if (target === 'chat grammar') {
    const g = makeGrammar(r);
    how = g.how;
    path = '/api/llm/chat';
    body = { messages: MESSAGES, params: { grammar: g.grammar, maxTokens, temperature: r.pick([0, 0.7, 1.5]), seed: r.int(0, 1000) } };
  } else if (target === 'chat jsonSchema') {
    const s = makeSchema(r);
    how = s.how;
    path = '/api/llm/chat';
    body = { messages: MESSAGES, params: { jsonSchema: s.schema, maxTokens, seed: r.int(0, 1000) } };
  } else if (target === 'v1 response_format') {
    const s = makeSchema(r);
    how = s.how;
    path = '/v1/chat/completions';
    body = {
      model: 'tiny',
      messages: MESSAGES,
      max_tokens: maxTokens,
      seed: r.int(0, 1000),
      stream: r.chance(0.2),
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: s.schema, ...(r.chance(0.3) ? { strict: true } : {}) } },
    };
  } else {
    const tools = Array.from({ length: r.weighted([
      [8, 1],
      [2, r.int(2, 5)],
      [1, 128],
    ] as const) }, (_, i) => {
      const s = makeSchema(r);
      return { type: 'function', function: { name: i === 0 ? 'f' : r.chance(0.1) ? 'f' : `tool_${i}`, description: 'd', parameters: s.schema } };
    });
    how = `${tools.length} tool(s)`;
    path = '/v1/chat/completions';
    body = {
      model: 'tiny',
      messages: MESSAGES,
      max_tokens: maxTokens,
      seed: r.int(0, 1000),
      stream: r.chance(0.2),
      tools,
      tool_choice: r.pick<unknown>(['auto', 'required', 'none', { type: 'function', function: { name: 'f' } }, { type: 'function', function: { name: 'missing' } }]),
      ...(r.chance(0.2) ? { parallel_tool_calls: r.chance(0.5) } : {}),
    };
  }
  return {
    index,
    target,
    how,
    spec: { method: 'POST', path, headers: { authorization: `Bearer ${FUZZ_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) },
  };
}

export function describeGrammarCase(c: GrammarCase, seed: number): string {
  return `seed ${seed} case #${c.index} ${c.target} (${c.how}) POST ${c.spec.path}\n    ${clip(String(c.spec.body), 600)}`;
}

// ---------------------------------------------------------------------------------------------------
// The run

export interface GrammarCaseReport {
  index: number;
  description: string;
  /** '200', '400 invalid_request', 'hang', … */
  outcome: string;
  problems: string[];
  ms: number;
}

export interface GrammarFuzzReport {
  seed: number;
  cases: number;
  outcomes: Record<string, number>;
  failures: GrammarCaseReport[];
  crashes: number;
  seconds: number;
}

export interface GrammarFuzzOptions {
  cases?: number;
  seed?: number;
  only?: number[];
  limitSeconds?: number;
  batch?: number;
  model?: string;
  onCase?: (c: GrammarCaseReport) => void;
}

export async function runGrammarFuzz(options: GrammarFuzzOptions = {}): Promise<GrammarFuzzReport> {
  const seed = options.seed ?? 1;
  const limitMs = (options.limitSeconds ?? 60) * 1000;
  const batch = options.batch ?? 10;
  const indexes = options.only ?? Array.from({ length: options.cases ?? 500 }, (_, i) => i);
  const server = new FuzzServer({ ...(options.model ? { model: options.model } : {}), maxTokens: 8 });
  const outcomes: Record<string, number> = {};
  const failures: GrammarCaseReport[] = [];
  let crashes = 0;
  const started = performance.now();
  try {
    await server.start();
    let sinceHealth = 0;
    for (const index of indexes) {
      const c = makeGrammarCase(seed, index);
      const description = describeGrammarCase(c, seed);
      const t0 = performance.now();
      const o = await sendHttp(server.port, c.spec, limitMs);
      const problems = checkHttpAnswer(c.spec, o);
      let outcome: string = o.kind;
      if (o.kind === 'response') {
        outcome = String(o.status);
        if (o.status >= 400) {
          try {
            outcome += ` ${(JSON.parse(o.body.toString('utf8')) as { error: { code: string } }).error.code}`;
          } catch {
            // Reported by the check.
          }
        }
      }
      if (problems.length > 0) await server.settle();
      if (server.alive && /hang/.test(outcome)) await server.waitIdle(10 * limitMs);
      if (!server.alive) {
        problems.push(`the server died: ${server.crash?.signal ?? `exit ${server.crash?.exitCode}`}\n      ${server.stderr.split('\n').slice(-8).join('\n      ')}`);
        crashes++;
        server.stop();
        await server.start();
        sinceHealth = 0;
      }
      if (++sinceHealth >= batch) {
        sinceHealth = 0;
        const unhealthy = await server.healthy(limitMs);
        if (unhealthy) problems.push(`after this batch: ${unhealthy}`);
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const report: GrammarCaseReport = { index, description, outcome, problems, ms: Math.round(performance.now() - t0) };
      if (problems.length > 0) failures.push(report);
      options.onCase?.(report);
    }
    const unhealthy = await server.healthy(limitMs);
    if (unhealthy) failures.push({ index: -1, description: 'after the last case', outcome: 'health', problems: [unhealthy], ms: 0 });
    return { seed, cases: indexes.length, outcomes, failures, crashes, seconds: Math.round((performance.now() - started) / 1000) };
  } finally {
    server.dispose();
  }
}

export function describeGrammarFailure(f: GrammarCaseReport): string {
  return `${f.description}\n  → ${f.outcome}: ${f.problems.join('\n    ')}`;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = Number(arg('seed') ?? 1);
  const only = arg('case') !== undefined ? arg('case')!.split(',').map(Number) : undefined;
  const verbose = argv.includes('--verbose');
  const report = await runGrammarFuzz({
    cases: Number(arg('cases') ?? 2000),
    seed,
    ...(only ? { only } : {}),
    limitSeconds: Number(arg('limit') ?? 60),
    ...(arg('model') ? { model: arg('model')! } : {}),
    onCase: (c) => {
      if (c.problems.length > 0) process.stdout.write(`FAIL ${describeGrammarFailure(c)}\n`);
      else if (verbose) process.stdout.write(`ok   ${c.description.split('\n')[0]} → ${c.outcome} (${c.ms} ms)\n`);
    },
  });
  const outcomes = Object.entries(report.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(`\n${report.cases} cases (seed ${seed}, ${report.seconds} s): ${outcomes}; ${report.failures.length} failures, ${report.crashes} server crashes\n`);
  for (const f of report.failures) process.stdout.write(`${describeGrammarFailure(f)}\n`);
  if (arg('json')) writeFileSync(arg('json')!, JSON.stringify(report, null, 2));
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}

const invoked = process.argv[1] ? pathToFileURL(process.argv[1]).href === import.meta.url : false;
if (invoked) await main(process.argv.slice(2));
