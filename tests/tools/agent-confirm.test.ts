// The agent loop's side of confirmations in plain words (scripted model outputs, real tools and store):
// the user's edited arguments are what runs and what the conversation keeps; a call missing an argument
// is asked as a field to fill instead of failing; a tool error goes back to the model as the result; an
// empty reply is reported (and not saved as an answer); thinking leaves room for the answer.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/engine/index.js';
import { thinkingCap } from '../../src/tools/agent.js';
import { runAgentToEnd, type AgentBackend, type AgentEvent, type AgentGeneration, type ConfirmationRequest, type ToolServices } from '../../src/tools/index.js';
import { TINY_MODEL } from '../helpers/models.js';
import { makeServices, tempDir } from './helpers.js';

let model: Model;
let services: ToolServices;
let cleanup: () => void;

beforeAll(async () => {
  model = await loadModel({ path: TINY_MODEL });
  const t = tempDir('westfall-agent-confirm-');
  cleanup = t.cleanup;
  services = makeServices(join(t.dir, 'data'));
  services.time.projects.create({ name: 'Garden' });
  services.time.projects.create({ name: 'Kitchen' });
});
afterAll(() => {
  services.close();
  model.dispose();
  cleanup();
});

function scripted(outputs: string[], stopReason = 'eos'): AgentBackend & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    prompts,
    model: () => model,
    async generate(r): Promise<AgentGeneration> {
      const rendered = model.applyChatTemplate(r.messages, r.format);
      prompts.push(rendered.prompt);
      const text = outputs.shift() ?? 'no more output';
      return {
        chatFormat: rendered.chatFormat,
        async *[Symbol.asyncIterator]() {
          if (text) yield { text };
        },
        result: Promise.resolve({ text, stopReason, usage: { promptTokens: 10, completionTokens: 5 } }),
      };
    },
  };
}

const call = (name: string, args: unknown) => `<tool_call>\n${JSON.stringify({ name, arguments: args })}\n</tool_call>`;

describe('confirmations in the agent loop', () => {
  it('runs and keeps the arguments the user edited', async () => {
    const asked: ConfirmationRequest[] = [];
    const events: AgentEvent[] = [];
    const backend = scripted([call('time_start_timer', { project: 'Kitchen' }), 'Started.']);
    const r = await runAgentToEnd(
      {
        backend,
        registry: services.registry,
        store: services.conversations,
        messages: [{ role: 'user', content: 'Start a timer on the garden' }],
        mode: 'native',
        confirm: async (req) => {
          asked.push(req);
          return { approved: true, arguments: { project: 'Garden', description: 'Weeding' } };
        },
      },
      (e) => events.push(e),
    );
    expect(asked[0]).toMatchObject({ sentence: 'Start a timer on project Kitchen?', template: expect.stringContaining('{project/projectId}'), problems: [] });
    expect(services.time.timer.status()).toMatchObject({ project: 'Garden', description: 'Weeding' });
    expect(events.find((e) => e.type === 'tool_result')).toMatchObject({ ok: true, arguments: { project: 'Garden', description: 'Weeding' } });
    const saved = services.conversations.messages(r.conversationId!);
    expect(saved[1]!.toolCalls![0]!.arguments).toEqual({ project: 'Garden', description: 'Weeding' });
    // The model sees the edited call in the next step.
    expect(backend.prompts[1]).toContain('"project": "Garden"');
    services.time.timer.stop();
  });

  it('asks for a missing argument instead of failing; a tool error goes back to the model as the result', async () => {
    const asked: ConfirmationRequest[] = [];
    const events: AgentEvent[] = [];
    const backend = scripted([call('time_start_timer', {}), call('time_stop_timer', {}), call('time_stop_timer', {}), 'Nothing to stop.']);
    await runAgentToEnd(
      {
        backend,
        registry: services.registry,
        messages: [{ role: 'user', content: 'Start a timer' }],
        mode: 'native',
        confirm: async (req) => {
          asked.push(req);
          // The first: the user fills in the project; then stops the timer twice (the second fails).
          return req.call.name === 'time_start_timer' ? { approved: true, arguments: { project: 'Garden' } } : true;
        },
      },
      (e) => events.push(e),
    );
    expect(asked[0]).toMatchObject({ sentence: 'Start a timer on project …?', problems: [{ path: 'project', message: 'give project or projectId' }] });
    expect(asked[0]!.parameters).toMatchObject({ type: 'object' });
    expect(asked[0]!.choices.projectId!.map((c) => c.label)).toEqual(['Garden', 'Kitchen']);
    const results = events.filter((e) => e.type === 'tool_result') as Extract<AgentEvent, { type: 'tool_result' }>[];
    expect(results.map((e) => e.ok)).toEqual([true, true, false]);
    expect(results[2]!.result).toMatchObject({ error: { code: 'timer_not_running', message: 'no timer is running; start one first' } });
    expect(backend.prompts[3]).toContain('timer_not_running');
  });

  it('without anyone to ask, a call missing an argument is an error the model sees', async () => {
    const events: AgentEvent[] = [];
    await runAgentToEnd({ backend: scripted([call('time_start_timer', {}), 'ok']), registry: services.registry, messages: [{ role: 'user', content: 'x' }], mode: 'native' }, (e) => events.push(e));
    expect(events.find((e) => e.type === 'tool_result')).toMatchObject({ ok: false, result: { error: { code: 'tool_invalid_arguments' } } });
    expect(events.some((e) => e.type === 'confirmation_required')).toBe(false);
  });

  it('reports an empty reply and does not save it as an answer', async () => {
    const r = await runAgentToEnd({ backend: scripted(['']), registry: services.registry, store: services.conversations, messages: [{ role: 'user', content: 'Quiet please' }], mode: 'native' });
    expect(r).toMatchObject({ answer: '', empty: 'ended', stopReason: 'answer' });
    expect(services.conversations.messages(r.conversationId!).map((m) => m.role)).toEqual(['user']);
    const cut = await runAgentToEnd({ backend: scripted([''], 'max_tokens'), registry: services.registry, messages: [{ role: 'user', content: 'x' }], mode: 'native' });
    expect(cut.empty).toBe('max_tokens');
    const spoken = await runAgentToEnd({ backend: scripted(['Hello.']), registry: services.registry, messages: [{ role: 'user', content: 'x' }], mode: 'native' });
    expect(spoken.empty).toBeUndefined();
  });

  it('caps thinking below maxTokens so the answer has room', () => {
    expect(thinkingCap(512, null)).toBe(384);
    expect(thinkingCap(512, 100)).toBe(100);
    expect(thinkingCap(4096, null)).toBe(3840);
    expect(thinkingCap(1, null)).toBe(1);
  });
});
