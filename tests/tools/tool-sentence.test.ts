// Tool confirmations in plain words: the sentence templates (backend and the renderer's copy on the same
// cases), every tool that writes data has one that reads as a sentence for real arguments, the generic
// sentence for tools without one (MCP), and the confirmation request the agent sends (describeCall).
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillSentence, genericSentence } from '../../src/tools/tool-sentence.js';
import { fillSentence as fillInRenderer } from '../../renderer/src/chat/tool-form-sentence.js';
import { describeCall } from '../../src/tools/confirmations.js';
import { defineTool, ToolRegistry, type ToolServices } from '../../src/tools/index.js';
import { makeServices, tempDir } from './helpers.js';

const choices = {
  accountId: [{ value: 1, label: 'Checking', extra: { currency: 'EUR' } }],
  projectId: [{ value: 3, label: 'Garden' }],
};

const cases: [template: string, args: Record<string, unknown>, text: string, missing: string[]][] = [
  ['Start a timer on project {project/projectId}?', { project: 'Garden' }, 'Start a timer on project Garden?', []],
  ['Start a timer on project {project/projectId}?', { projectId: 3 }, 'Start a timer on project Garden?', []],
  ['Start a timer on project {project/projectId}?', {}, 'Start a timer on project …?', ['project']],
  [
    'Add {amount<0?an expense:an income} of {amount|abs}[ {accountId.currency}][ for {category}] to {accountId}?',
    { amount: -12.5, category: 'Groceries', accountId: 1 },
    'Add an expense of 12.5 EUR for Groceries to Checking?',
    [],
  ],
  ['Add {amount<0?an expense:an income} of {amount|abs}[ for {category}]?', { amount: '-85,20' }, 'Add an expense of 85,20?', []],
  ['Add {amount<0?an expense:an income} of {amount|abs}[ for {category}]?', { amount: 3000 }, 'Add an income of 3000?', []],
  ['Add {type=expense?an expense:type=income?an income:amount<0?an expense:an income}?', { type: 'income', amount: -3 }, 'Add an income?', []],
  ['Add {type=expense?an expense:type=income?an income:amount<0?an expense:an income}?', { type: 'expense', amount: 3 }, 'Add an expense?', []],
  ['Add {type=expense?an expense:type=income?an income:amount<0?an expense:an income}?', { amount: -3 }, 'Add an expense?', []],
  ['Queue {trackIds}{next? next:}?', { trackIds: [4, 5], next: true }, 'Queue 4, 5 next?', []],
  ['Queue {trackIds}{next? next:}?', { trackIds: [4], next: false }, 'Queue 4?', []],
  ['Log it[ for "{description}"]?', { description: '' }, 'Log it?', []],
];

describe('sentence templates', () => {
  it.each(cases)('%s with %j', (template, args, text, missing) => {
    expect(fillSentence(template, args, choices)).toEqual({ text, missing });
    // The renderer's copy fills the same way (it follows the form as the user edits).
    expect(fillInRenderer(template, args, choices)).toEqual({ text, missing });
  });

  it('falls back to a generic sentence naming the tool and where it comes from', () => {
    expect(genericSentence('Read file', 'filesystem')).toBe('Use Read file from filesystem?');
  });
});

describe('the tools in plain words', () => {
  let services: ToolServices;
  let cleanup: () => void;
  beforeAll(() => {
    const t = tempDir('westfall-sentence-');
    cleanup = t.cleanup;
    services = makeServices(join(t.dir, 'data'));
    services.finance.accounts.create({ name: 'Checking', currency: 'EUR' });
    services.time.projects.create({ name: 'Garden' });
  });
  afterAll(() => {
    services.close();
    cleanup();
  });

  it('every tool that writes data has a sentence template and a title', () => {
    for (const d of services.registry.describe().filter((t) => t.mutates)) {
      expect(d.confirm, d.name).toMatch(/\?$/);
      expect(d.title, d.name).not.toMatch(/_/);
    }
  });

  it('describes a call: sentence from the arguments and the user\'s data, schema, choices and what is missing', () => {
    const garden = services.time.projects.list()[0]!;
    const ok = describeCall(services.registry, { id: 'c1', name: 'time_start_timer', arguments: { projectId: garden.id } });
    expect(ok.sentence).toBe('Start a timer on project Garden?');
    expect(ok.problems).toEqual([]);
    expect(ok.tool).toMatchObject({ title: 'Start a timer', source: 'Westfall' });
    expect(ok.choices.project).toEqual([{ value: 'Garden', label: 'Garden' }]);
    expect((ok.parameters.properties as Record<string, unknown>).project).toBeDefined();

    // What failed as "name the project" is now a field to fill.
    const missing = describeCall(services.registry, { id: 'c2', name: 'time_start_timer', arguments: {} });
    expect(missing.sentence).toBe('Start a timer on project …?');
    expect(missing.problems).toEqual([{ path: 'project', message: 'give project or projectId' }]);
    expect(missing.requiredAny).toEqual([['project', 'projectId']]);

    const account = services.finance.accounts.list()[0]!;
    const tx = describeCall(services.registry, {
      id: 'c3',
      name: 'finance_add_transaction',
      arguments: { accountId: account.id, date: '2025-03-01', amount: -12.5, category: 'Groceries' },
    });
    expect(tx.sentence).toBe('Add an expense of 12.5 EUR for Groceries to Checking on 2025-03-01?');
    const noDate = describeCall(services.registry, { id: 'c4', name: 'finance_add_transaction', arguments: { accountId: account.id, amount: -1 } });
    expect(noDate.problems.map((p) => p.path)).toEqual(['date']);
  });

  it('a tool without a template (an MCP tool) gets the generic sentence', () => {
    const registry = new ToolRegistry([
      defineTool({ name: 'fs_write', title: 'Write file', source: 'filesystem', description: 'x', input: z.object({ path: z.string() }), mutates: true, handler: () => null }),
    ]);
    expect(describeCall(registry, { id: 'c', name: 'fs_write', arguments: { path: '/tmp/x' } }).sentence).toBe('Use Write file from filesystem?');
  });

  it('a call missing one of a group is refused before it runs, naming the fields', async () => {
    await expect(services.registry.invoke('time_start_timer', {}, { caller: 'user' })).rejects.toMatchObject({
      code: 'tool_invalid_arguments',
      details: { fields: [{ path: 'project', message: 'give project or projectId' }] },
    });
  });
});
