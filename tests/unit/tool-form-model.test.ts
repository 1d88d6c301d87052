// The confirmation form generated from a JSON schema (renderer/src/chat/tool-form-model.ts): labels, enums
// as selects, choices, required and "one of" fields, values back to arguments with what is wrong, any
// schema (ours from zod, or a foreign one as MCP servers send), and readable tool errors.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { toolJsonSchema } from '../../src/tools/registry.js';
import { formFields, formState, humanize, initialValues, mustFill, readableToolError } from '../../renderer/src/chat/tool-form-model.js';

const timer = toolJsonSchema(
  z
    .object({
      projectId: z.number().int().min(1).optional(),
      project: z.string().min(1).max(100).optional().describe('Project name (instead of projectId)'),
      description: z.string().max(200).default(''),
      billable: z.boolean().default(true),
      repeat: z.enum(['none', 'daily', 'weekly']).default('none'),
      date: z.iso.date(),
      minutes: z.number().int().min(1).max(1440),
      tags: z.array(z.string()).optional(),
    })
    .strict(),
);

describe('schema → form', () => {
  const fields = formFields(timer, {
    choices: { projectId: [{ value: 3, label: 'Garden' }], project: [{ value: 'Garden', label: 'Garden' }] },
    requiredAny: [['project', 'projectId']],
  });
  const byName = (n: string) => fields.find((f) => f.name === n)!;

  it('labels, help, kinds and required marks come from the schema', () => {
    expect(fields.map((f) => [f.name, f.kind, f.label, f.required])).toEqual([
      ['projectId', 'select', 'Project id', false],
      ['project', 'text', 'Project', false],
      ['description', 'text', 'Description', false],
      ['billable', 'boolean', 'Billable', false],
      ['repeat', 'select', 'Repeat', false],
      ['date', 'date', 'Date', true],
      ['minutes', 'integer', 'Minutes', true],
      ['tags', 'list', 'Tags', false],
    ]);
    expect(byName('project').help).toBe('Project name (instead of projectId)');
    expect(byName('project').suggestions).toEqual(['Garden']);
    expect(byName('projectId').options).toEqual([{ value: '3', label: 'Garden' }]);
    expect(byName('repeat').options.map((o) => o.value)).toEqual(['none', 'daily', 'weekly']);
    expect(humanize('start_time')).toBe('Start time');
  });

  it('starts from the model\'s arguments and the defaults; missing required fields are problems, not failures', () => {
    const values = initialValues(fields, { date: '2025-03-01', bogus: 1 });
    expect(values).toMatchObject({ project: '', description: '', billable: true, repeat: 'none', date: '2025-03-01', minutes: '' });
    const s = formState(fields, values);
    expect(s.problems).toEqual({ minutes: 'Required', project: 'Fill in Project or Project id' });
    expect(mustFill(byName('project'), s)).toBe(true);
    expect(mustFill(byName('projectId'), s)).toBe(false);
    // Filled in: arguments of the right types, unknown keys of the model dropped.
    const filled = formState(fields, { ...values, project: 'Garden', minutes: '90', billable: false, tags: 'a, b' });
    expect(filled.problems).toEqual({});
    expect(filled.args).toEqual({ project: 'Garden', billable: false, repeat: 'none', date: '2025-03-01', minutes: 90, tags: ['a', 'b'] });
    expect(mustFill(byName('project'), filled)).toBe(false);
  });

  it('says what is wrong with a value', () => {
    const values = initialValues(fields, { project: 'Garden', date: '2025-03-01' });
    expect(formState(fields, { ...values, minutes: '1.5' }).problems).toEqual({ minutes: 'Enter a whole number' });
    expect(formState(fields, { ...values, minutes: '2000' }).problems).toEqual({ minutes: 'At most 1440' });
    expect(formState(fields, { ...values, minutes: 'ten' }).problems).toEqual({ minutes: 'Enter a number' });
  });

  it('works from a foreign schema: nullable, number-or-text, nested objects as JSON, no properties at all', () => {
    const foreign = {
      type: 'object',
      properties: {
        path: { type: 'string', title: 'File path' },
        mode: { anyOf: [{ type: 'string', enum: ['r', 'w'] }, { type: 'null' }] },
        amount: { anyOf: [{ type: 'number' }, { type: 'string' }] },
        options: { type: 'object', properties: { x: { type: 'number' } } },
      },
      required: ['path'],
    };
    const f = formFields(foreign);
    expect(f.map((x) => [x.name, x.kind, x.label, x.required])).toEqual([
      ['path', 'text', 'File path', true],
      ['mode', 'select', 'Mode', false],
      ['amount', 'text', 'Amount', false],
      ['options', 'json', 'Options', false],
    ]);
    const s = formState(f, { path: '/tmp/a', mode: 'w', amount: '-12.5', options: '{"x": 1}' });
    expect(s.args).toEqual({ path: '/tmp/a', mode: 'w', amount: -12.5, options: { x: 1 } });
    expect(formState(f, { path: '/tmp/a', mode: '', amount: '85,20', options: '{' }).problems).toEqual({ options: 'Not valid JSON' });
    expect(formState(f, { path: '/tmp/a', mode: '', amount: '85,20', options: '' }).args).toEqual({ path: '/tmp/a', amount: '85,20' });
    expect(formFields({ type: 'object' })).toEqual([]);
    expect(formFields(null)).toEqual([]);
  });
});

describe('readable tool errors', () => {
  const fields = formFields(timer);
  it('names fields by their labels, codes in words, messages as sentences; never JSON', () => {
    expect(
      readableToolError(
        {
          code: 'tool_invalid_arguments',
          message: 'invalid arguments for x: minutes: Invalid input: expected number, received undefined',
          details: { fields: [{ path: 'minutes', message: 'Invalid input: expected number, received undefined' }, { path: 'projectId', message: 'Invalid input: expected number, received string' }] },
        },
        fields,
      ),
    ).toBe('Some details were missing or wrong — Minutes: missing; Project id: should be a number.');
    expect(readableToolError({ code: 'timer_not_running', message: 'no timer is running; start one first' })).toBe('No timer is running; start one first.');
    expect(readableToolError({ code: 'internal_error', message: 'the tool failed unexpectedly' })).toBe('The tool failed unexpectedly.');
    expect(readableToolError(null)).toBe('The tool failed unexpectedly.');
  });
});
