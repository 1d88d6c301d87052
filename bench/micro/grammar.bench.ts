// JSON schema to GBNF grammar (llama.cpp's converter, through the addon), as every jsonSchema request pays.
import { jsonSchemaToGrammar } from '../../src/engine/index.js';
import type { MicroSuite } from './common.js';

const SMALL = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, required: ['name'] };

const LARGE = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    title: { type: 'string', minLength: 1, maxLength: 200 },
    status: { enum: ['draft', 'open', 'closed', 'archived'] },
    priority: { type: 'integer', minimum: 1, maximum: 5 },
    due: { type: 'string', format: 'date-time' },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 10 },
    assignee: {
      type: 'object',
      properties: { name: { type: 'string' }, email: { type: 'string', pattern: '^[^@]+@[^@]+$' } },
      required: ['name'],
    },
    subtasks: {
      type: 'array',
      items: { type: 'object', properties: { title: { type: 'string' }, done: { type: 'boolean' } }, required: ['title', 'done'] },
    },
    estimate: { anyOf: [{ type: 'number' }, { type: 'null' }] },
  },
  required: ['id', 'title', 'status'],
};

export const suite: MicroSuite = {
  name: 'json-schema → grammar',
  async setup() {
    return {
      tasks: [
        { name: 'small object (2 properties)', fn: () => jsonSchemaToGrammar(SMALL) },
        { name: 'nested object (9 properties, arrays, formats, pattern)', fn: () => jsonSchemaToGrammar(LARGE) },
      ],
    };
  },
};
