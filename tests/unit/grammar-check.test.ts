// The up-front grammar and JSON-schema checks: everything llama.cpp itself uses must pass, and every shape
// that hangs or aborts it must be refused with a message that says where.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonSchemaToGrammar } from '../../src/engine/index.js';
import {
  checkGrammar,
  checkJsonSchema,
  MAX_GRAMMAR_ALTERNATIVES,
  MAX_GRAMMAR_BYTES,
  MAX_GRAMMAR_NESTING,
  MAX_SCHEMA_DEPTH,
  MAX_SCHEMA_NODES,
} from '../../src/engine/grammar-check.js';
import { generateParamsSchema, parseOrThrow } from '../../src/engine/options.js';
import { WestfallError } from '../../src/errors.js';
import { DEFAULT_LLAMA_CPP_DIR } from '../../src/gguf/index.js';
import { chatCompletionRequestSchema, chatRequestSchema } from '../../src/server/schemas.js';
import { makeServices, tempDir } from '../tools/helpers.js';

function errorOf(fn: () => void): WestfallError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WestfallError);
    expect((err as WestfallError).code).toBe('invalid_params');
    return err as WestfallError;
  }
  throw new Error('expected invalid_params');
}

/** Schemas of the kinds clients send, for the converter round trip. */
const SCHEMAS: Record<string, unknown>[] = [
  { type: 'object' },
  {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 40 },
      age: { type: 'integer', minimum: 0, maximum: 150 },
      score: { type: 'number', minimum: -1, maximum: 1 },
      tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, minItems: 1, maxItems: 3 },
      email: { type: 'string', pattern: '^[a-z]{1,20}@[a-z]{2,10}\\.com$' },
      when: { type: 'string', format: 'date-time' },
      id: { type: 'string', format: 'uuid' },
      kind: { const: 'person' },
      extra: { anyOf: [{ type: 'null' }, { type: 'boolean' }] },
    },
    required: ['name', 'age'],
    additionalProperties: false,
  },
  { type: 'integer', minimum: 3, maximum: 3 },
  { type: 'integer', exclusiveMinimum: -10, exclusiveMaximum: 1000 },
  { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }] },
  { type: 'string', maxLength: 5000 },
  {
    $defs: { node: { type: 'object', properties: { value: { type: 'integer' }, next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } } } },
    $ref: '#/$defs/node',
  },
  { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'number' } }], description: 'either' },
  { type: ['integer', 'null'], minimum: 1, maximum: 9 },
  { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
];

describe('checkGrammar', () => {
  it("accepts every grammar shipped with llama.cpp", () => {
    const dir = join(DEFAULT_LLAMA_CPP_DIR, 'grammars');
    const files = readdirSync(dir).filter((f) => f.endsWith('.gbnf'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(() => checkGrammar(readFileSync(join(dir, f), 'utf8')), f).not.toThrow();
  });

  it("accepts llama.cpp's JSON-schema converter output", () => {
    for (const schema of SCHEMAS) {
      const g = jsonSchemaToGrammar(schema);
      expect(() => checkGrammar(g), JSON.stringify(schema)).not.toThrow();
    }
  });

  describe('the app tool schemas', () => {
    const tmp = tempDir();
    const services = makeServices(tmp.dir);
    afterAll(() => {
      services.close();
      tmp.cleanup();
    });
    it('pass both checks, one by one and as one call schema far below the size limit', () => {
      const { registry } = services;
      expect(registry.names.length).toBeGreaterThan(10);
      for (const name of registry.names) {
        const params = registry.parameters(name);
        expect(() => checkJsonSchema(params), name).not.toThrow();
        expect(() => checkGrammar(jsonSchemaToGrammar(params)), name).not.toThrow();
      }
      // The shape of a tool-call grammar: any one tool's name with its arguments.
      const call = {
        anyOf: registry.names.map((name) => ({
          type: 'object',
          properties: { name: { const: name }, arguments: registry.parameters(name) },
          required: ['name', 'arguments'],
        })),
      };
      const g = jsonSchemaToGrammar(call);
      expect(() => checkGrammar(g)).not.toThrow();
      expect(Buffer.byteLength(g)).toBeLessThan(MAX_GRAMMAR_BYTES / 4);
    });
  });

  it.each([
    'root ::= "a"{0,0} "b"',
    'root ::= "a"{2}',
    'root ::= "a"{2,}',
    'root ::= "a"{ 2 , 3 }',
    'root ::= "a"{2000}',
    // A maximum above the limit is llama.cpp's "no maximum", not an error.
    'root ::= [a-z]{0,5000}',
    'root ::= ("a" | "b"){1,3} x{0,1}\nx ::= [0-9]',
    'root ::= "a{5,1}" [{}] # {5,1} in a comment',
    'root ::= "a\\"{5,1}\\"" [\\]{] "(" ")"',
    'root ::= <[123]>{2} !<[7]>? "x"',
    'root ::= "\\u00e9"{1,2} [\\x00-\\x7F]*',
    'root ::= ( "a" # comment (\n  "b" )',
    '',
  ])('accepts %j', (g) => {
    expect(() => checkGrammar(g)).not.toThrow();
  });

  it('refuses a reversed repetition, naming line and column', () => {
    const e = errorOf(() => checkGrammar('root ::= "a"{2,1}'));
    expect(e.message).toBe('grammar error at line 1, column 13: repetition {2,1}: the minimum 2 is greater than the maximum 1');
    expect(e.details).toMatchObject({ line: 1, column: 13 });
    expect(errorOf(() => checkGrammar('root ::= x\nx ::= ("a" | "b"){ 7 , 3 }')).message).toMatch(/line 2, column 18: .*minimum 7 is greater than the maximum 3/);
    expect(errorOf(() => checkGrammar('root ::= [a-z]{10,9}')).message).toMatch(/minimum 10/);
    expect(errorOf(() => checkGrammar('root ::= <[12]>{3,2}')).message).toMatch(/minimum 3/);
    expect(errorOf(() => checkGrammar('root ::= "\\\\"{3,1}')).message).toMatch(/minimum 3/);
  });

  it('refuses counts above the limit, malformed braces, unbalanced and deep parentheses', () => {
    expect(errorOf(() => checkGrammar('root ::= "a"{2001}')).message).toMatch(/exceeds the limit of 2000/);
    expect(errorOf(() => checkGrammar('root ::= "a"{99999999999999999999999,}')).message).toMatch(/exceeds the limit/);
    expect(errorOf(() => checkGrammar('root ::= "a"{,3}')).message).toMatch(/malformed repetition/);
    expect(errorOf(() => checkGrammar('root ::= "a"{2')).message).toMatch(/malformed repetition/);
    expect(errorOf(() => checkGrammar('root ::= ("a" | ("b")')).message).toMatch(/column 10: unbalanced '\('/);
    expect(errorOf(() => checkGrammar('root ::= "a")')).message).toMatch(/column 13: unbalanced '\)'/);
    const deep = `root ::= ${'('.repeat(MAX_GRAMMAR_NESTING + 1)}"a"${')'.repeat(MAX_GRAMMAR_NESTING + 1)}`;
    expect(errorOf(() => checkGrammar(deep)).message).toMatch(/nested deeper than/);
    const fine = `root ::= ${'('.repeat(100)}"a"${')'.repeat(100)}`;
    expect(() => checkGrammar(fine)).not.toThrow();
  });

  it('refuses unterminated literals, classes and tokens', () => {
    expect(errorOf(() => checkGrammar('root ::= "abc')).message).toMatch(/unterminated string/);
    expect(errorOf(() => checkGrammar('root ::= [abc')).message).toMatch(/unterminated character class/);
    expect(errorOf(() => checkGrammar('root ::= <[12]')).message).toMatch(/unterminated token/);
  });

  it('refuses grammars that are too large or expand too much', () => {
    const big = `root ::= "${'a'.repeat(MAX_GRAMMAR_BYTES)}"`;
    expect(errorOf(() => checkGrammar(big)).message).toMatch(/bytes long, over the limit/);
    const many = `root ::= ${Array.from({ length: 100 }, () => '"abcdefghij"{2000}').join(' ')}`;
    expect(errorOf(() => checkGrammar(many)).message).toMatch(/expand to more than/);
    // A group is repeated by reference, so this is 2000 elements, not a million.
    expect(() => checkGrammar('root ::= ("a"{1000}){1000}')).not.toThrow();
    expect(errorOf(() => checkGrammar('root ::= "abc"{1000}{1000}')).message).toMatch(/expand to more than/);
  });
});

describe('checkJsonSchema', () => {
  it.each(SCHEMAS.map((s) => [JSON.stringify(s).slice(0, 60), s]))('accepts %s', (_name, s) => {
    expect(() => checkJsonSchema(s)).not.toThrow();
  });

  it.each([
    { type: 'integer', minimum: 2.5, maximum: 3.5 },
    { type: 'number', exclusiveMinimum: 3, exclusiveMaximum: 4 },
    { type: 'integer', minimum: 3, exclusiveMinimum: true, maximum: 5 },
    { type: 'string', minLength: 0, maxLength: 0 },
    { type: 'object', properties: {}, required: ['ghost'], additionalProperties: false },
    { type: 'object', properties: { a: true, b: false } },
    { type: 'string', pattern: '^[{}]{1,2}\\{5,1\\}x{,3}$' },
    { description: 'minimum 10 maximum 3 in text only', properties: { minimum: { type: 'integer' } } },
  ])('accepts %j', (s) => {
    expect(() => checkJsonSchema(s)).not.toThrow();
  });

  const refused: [string, unknown, string][] = [
    ['integer min > max', { type: 'integer', minimum: 10, maximum: 3 }, '(root): minimum 10 is greater than maximum 3'],
    [
      'a nested property',
      { type: 'object', properties: { age: { type: 'integer', minimum: 10, maximum: 3 } } },
      'properties.age: minimum 10 is greater than maximum 3',
    ],
    ['number min > max', { type: 'number', minimum: 1.5, maximum: 1 }, '(root): minimum 1.5 is greater than maximum 1'],
    [
      'no integer between exclusive bounds',
      { type: 'integer', exclusiveMinimum: 3, exclusiveMaximum: 4 },
      '(root): no integer satisfies exclusiveMinimum 3 and exclusiveMaximum 4',
    ],
    ['fractional bounds around no integer', { type: 'integer', minimum: 3.2, maximum: 3.8 }, 'no integer satisfies minimum 3.2 and maximum 3.8'],
    ['equal exclusive bounds', { type: 'number', exclusiveMinimum: 3, maximum: 3 }, 'exclusiveMinimum 3 and maximum 3 leave no value'],
    ['draft-4 exclusive flags', { type: 'number', minimum: 3, exclusiveMinimum: true, maximum: 3 }, 'exclusive minimum 3 and maximum 3 leave no value'],
    ['integer in a type list', { type: ['integer', 'null'], exclusiveMinimum: 1, exclusiveMaximum: 2 }, 'no integer satisfies'],
    ['an integer bound past int64', { type: 'integer', minimum: 1e19 }, 'outside the 64-bit integer range'],
    ['minLength > maxLength', { properties: { s: { type: 'string', minLength: 5, maxLength: 2 } } }, 'properties.s: minLength 5 is greater than maxLength 2'],
    ['minItems > maxItems', { type: 'array', items: { type: 'string' }, minItems: 4, maxItems: 2 }, '(root): minItems 4 is greater than maxItems 2'],
    ['minProperties > maxProperties', { type: 'object', minProperties: 3, maxProperties: 1 }, 'minProperties 3 is greater than maxProperties 1'],
    ['a negative length', { type: 'string', maxLength: -1 }, 'maxLength must be a non-negative integer, got -1'],
    ['a fractional count', { type: 'array', minItems: 1.5 }, 'minItems must be a non-negative integer, got 1.5'],
    ['a count that wraps around int', { type: 'string', minLength: 2, maxLength: 2 ** 32 + 1 }, 'maxLength 4294967297 is too large'],
    ['a minimum length above the repetition limit', { type: 'string', minLength: 3000 }, 'minLength 3000 exceeds the limit of 2000'],
    ['a non-finite number', { type: 'number', maximum: Infinity }, 'maximum must be a finite number, not Infinity'],
    ['NaN', { type: 'integer', minimum: NaN }, 'minimum must be a finite number, not NaN'],
    ['an empty enum', { properties: { c: { enum: [] } } }, 'properties.c: enum must not be empty'],
    ['an enum that is not an array', { enum: 'a' }, 'enum must be an array'],
    ['an empty anyOf', { anyOf: [] }, 'anyOf: anyOf must not be empty'],
    ['an empty type list', { type: [] }, 'type must not be an empty list'],
    ['a reversed pattern quantifier', { type: 'string', pattern: '^[a-z]{5,3}$' }, 'pattern quantifier {5,3}: the minimum 5 is greater than the maximum 3'],
    ['a pattern count over the limit', { type: 'string', pattern: '^a{3000}$' }, 'pattern quantifier {3000} exceeds the limit'],
    ['inside items', { type: 'array', items: { type: 'integer', minimum: 5, maximum: 1 } }, 'items: minimum 5'],
    ['inside prefixItems', { prefixItems: [{ type: 'string' }, { type: 'string', minLength: 3, maxLength: 1 }] }, 'prefixItems[1]: minLength 3'],
    ['inside anyOf', { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 2, maximum: 1 }] }, 'anyOf[1]: minimum 2'],
    ['inside $defs', { $defs: { n: { type: 'integer', minimum: 2, maximum: 1 } }, $ref: '#/$defs/n' }, '$defs.n: minimum 2'],
    ['inside definitions', { definitions: { n: { type: 'string', minLength: 2, maxLength: 1 } } }, 'definitions.n: minLength 2'],
    ['inside additionalProperties', { type: 'object', additionalProperties: { type: 'array', minItems: 2, maxItems: 1 } }, 'additionalProperties: minItems 2'],
    [
      'deep inside',
      { properties: { a: { type: 'array', items: { properties: { b: { allOf: [{ type: 'integer', maximum: 1, minimum: 2 }] } } } } } },
      'properties.a.items.properties.b.allOf[0]: minimum 2 is greater than maximum 1',
    ],
  ];
  it.each(refused)('refuses %s', (_name, schema, message) => {
    expect(errorOf(() => checkJsonSchema(schema)).message).toContain(message);
  });

  it('refuses a schema nested too deeply or with too many subschemas', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < MAX_SCHEMA_DEPTH + 1; i++) deep = { type: 'array', items: deep };
    expect(errorOf(() => checkJsonSchema(deep)).message).toMatch(/nested deeper than 64/);
    let ok: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 20; i++) ok = { type: 'array', items: ok };
    expect(() => checkJsonSchema(ok)).not.toThrow();
    const wide = { type: 'object', properties: Object.fromEntries(Array.from({ length: MAX_SCHEMA_NODES + 1 }, (_, i) => [`p${i}`, { type: 'integer' }])) };
    expect(errorOf(() => checkJsonSchema(wide)).message).toMatch(/more than 20000 subschemas/);
    expect(errorOf(() => checkJsonSchema('nope')).message).toMatch(/must be an object/);
  });

  it('runs before the native converter', () => {
    const e = errorOf(() => jsonSchemaToGrammar({ type: 'integer', minimum: 10, maximum: 3 }));
    expect(e.message).toBe('(root): minimum 10 is greater than maximum 3');
  });
});

describe('where grammars and schemas enter', () => {
  it('the engine generation parameters', () => {
    const g = errorOf(() => parseOrThrow(generateParamsSchema, { grammar: 'root ::= "a"{2,1}' }, 'generation parameters'));
    expect(g.message).toBe(
      'invalid generation parameters: grammar: grammar error at line 1, column 13: repetition {2,1}: the minimum 2 is greater than the maximum 1',
    );
    const s = errorOf(() => parseOrThrow(generateParamsSchema, { jsonSchema: { properties: { age: { type: 'integer', minimum: 10, maximum: 3 } } } }, 'generation parameters'));
    expect(s.message).toBe('invalid generation parameters: jsonSchema: properties.age: minimum 10 is greater than maximum 3');
    expect(() => parseOrThrow(generateParamsSchema, { jsonSchema: { type: 'integer', minimum: 3, maximum: 3 } }, 'x')).not.toThrow();
  });

  it('the native chat request', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const g = chatRequestSchema.safeParse({ messages, params: { grammar: 'root ::= "a"{2,1}' } });
    expect(g.success).toBe(false);
    expect(g.error!.issues[0]).toMatchObject({ path: ['params', 'grammar'], message: expect.stringContaining('minimum 2 is greater than the maximum 1') });
    const s = chatRequestSchema.safeParse({ messages, params: { jsonSchema: { type: 'integer', minimum: 10, maximum: 3 } } });
    expect(s.error!.issues[0]).toMatchObject({ path: ['params', 'jsonSchema'], message: '(root): minimum 10 is greater than maximum 3' });
    const t = chatRequestSchema.safeParse({
      messages,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 2, maximum: 1 } } } } }],
    });
    expect(t.error!.issues[0]!.message).toBe('properties.n: minimum 2 is greater than maximum 1');
  });

  it("/v1's response_format and tools", () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const r = chatCompletionRequestSchema.safeParse({
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', minLength: 4, maxLength: 1 } } },
    });
    expect(r.error!.issues[0]).toMatchObject({ path: ['response_format', 'json_schema', 'schema'], message: '(root): minLength 4 is greater than maxLength 1' });
    const ok = chatCompletionRequestSchema.safeParse({
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'integer', minimum: 3, maximum: 3 } } },
    });
    expect(ok.success).toBe(true);
  });
});

// Found by scripts/fuzz-grammar.ts: a grammar of 5000 alternatives ("0" | "1" | … ) held a sequence for
// 190 s for an 8-token reply, a 1000-value enum over 60 s for 6 tokens; the queue behind them waited.
describe('alternatives (fuzzer findings)', () => {
  const alternation = (n: number) => Array.from({ length: n }, (_, i) => `"${i}"`).join(' | ');

  it('refuses more than MAX_GRAMMAR_ALTERNATIVES alternatives in one rule or group, counted per rule', () => {
    expect(() => checkGrammar(`root ::= ${alternation(MAX_GRAMMAR_ALTERNATIVES)}`)).not.toThrow();
    expect(errorOf(() => checkGrammar(`root ::= ${alternation(MAX_GRAMMAR_ALTERNATIVES + 1)}`)).message).toMatch(
      new RegExp(`more than ${MAX_GRAMMAR_ALTERNATIVES} alternatives in one rule`),
    );
    expect(errorOf(() => checkGrammar(`root ::= "x" (${alternation(MAX_GRAMMAR_ALTERNATIVES + 1)})`)).message).toMatch(/in one group/);
    // Each rule and each group has its own count; '|' inside literals, classes and comments is no alternative.
    expect(() => checkGrammar(`root ::= a | b\na ::= ${alternation(200)}\nb ::= (${alternation(200)}) | "z"`)).not.toThrow();
    expect(() => checkGrammar(`root ::= "${'|'.repeat(2000)}" [|] # ${'|'.repeat(2000)}\n`)).not.toThrow();
  });

  it('refuses an enum or anyOf/oneOf with more values than a grammar may have alternatives', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    expect(() => checkJsonSchema({ enum: values(MAX_GRAMMAR_ALTERNATIVES) })).not.toThrow();
    expect(errorOf(() => checkJsonSchema({ type: 'object', properties: { a: { enum: values(1000) } } })).message).toMatch(
      /^properties\.a: enum has 1000 values, over the limit/,
    );
    expect(errorOf(() => checkJsonSchema({ anyOf: values(MAX_GRAMMAR_ALTERNATIVES + 1).map((v) => ({ const: v })) })).message).toMatch(/^anyOf: anyOf has/);
  });
});
