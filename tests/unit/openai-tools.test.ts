// The pure parts of /v1 function calling: tool_choice, message conversion in both tool modes, and reading
// a JSON-mode reply as it streams. (Native formats: tests/engine/chat-formats.test.ts.)
import { describe, expect, it } from 'vitest';
import { ClientTools, parseToolChoice, toTurnMessages } from '../../src/server/openai-tools.js';
import { ReplyReader } from '../../src/tools/reply-reader.js';
import { toJsonModeMessages, toNativeMessages } from '../../src/tools/tool-format.js';

describe('tool_choice', () => {
  it('accepts OpenAI forms and rejects the rest with the field named', () => {
    expect(parseToolChoice(undefined, true)).toBe('auto');
    expect(parseToolChoice('none', true)).toBe('none');
    expect(parseToolChoice('required', true)).toBe('required');
    expect(parseToolChoice({ type: 'function', function: { name: 'add' } }, true)).toEqual({ name: 'add' });
    expect(() => parseToolChoice('sometimes', true)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(() => parseToolChoice({ type: 'function', function: {} }, true)).toThrow(/tool_choice.function.name/);
    expect(() => parseToolChoice('required', false)).toThrow(/needs tools/);
    expect(parseToolChoice('none', false)).toBe('none');
  });

  it('client tools validate names and know their schemas', () => {
    const t = new ClientTools([{ type: 'function', function: { name: 'add', parameters: { type: 'object', properties: { a: { type: 'integer' } } } } }]);
    expect(t.names).toEqual(['add']);
    expect(t.parameters('add')).toEqual({ type: 'object', properties: { a: { type: 'integer' } } });
    expect(() => t.parameters('sub')).toThrow(/no function named "sub"/);
    expect(new ClientTools([{ type: 'function', function: { name: 'noop' } }]).parameters('noop')).toEqual({ type: 'object', properties: {} });
    expect(() => new ClientTools([{ type: 'function', function: { name: 'a b' } }])).toThrow(/tools.0.function.name/);
    expect(() => new ClientTools([{ type: 'function', function: { name: 'x' } }, { type: 'function', function: { name: 'x' } }])).toThrow(/declared twice/);
  });
});

describe('messages', () => {
  it('passes earlier calls to the template with their arguments as objects, thinking apart', () => {
    const [m] = toNativeMessages(
      toTurnMessages([
        {
          role: 'assistant',
          content: null,
          reasoning_content: 'adding',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }],
        },
      ]),
    );
    expect(m).toEqual({
      role: 'assistant',
      content: '',
      reasoning_content: 'adding',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: { a: 1, b: 2 } } }],
    });
    expect(toNativeMessages(toTurnMessages([{ role: 'developer', content: [{ type: 'text', text: 'be brief' }] }]))[0]).toEqual({ role: 'system', content: 'be brief' });
  });

  it('JSON mode: calls become the JSON the model would have written, results user turns', () => {
    const tools = new ClientTools([{ type: 'function', function: { name: 'add' } }]);
    const out = toJsonModeMessages(
      toTurnMessages([
        { role: 'user', content: 'add' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'add', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '2' },
      ]),
      tools,
      'Be brief.',
    );
    expect(out[0]!.content).toContain('"name":"add"');
    expect(out.slice(1)).toEqual([
      { role: 'user', content: 'add' },
      { role: 'assistant', content: '{"tool":"add","arguments":{"a":1}}' },
      { role: 'user', content: 'Tool result (add): 2' },
    ]);
  });
});

describe('reply reader, JSON mode', () => {
  it('streams the decoded answer', () => {
    const r = new ReplyReader('json', null);
    const shown = ['{"ans', 'wer": "Hi', ' \\"there\\"', '\\n"}'].flatMap((c) => r.push(c)).map((d) => (d.type === 'content' ? d.text : '')).join('');
    expect(shown).toBe('Hi "there"\n');
    expect(r.finish()).toEqual({ reply: { content: 'Hi "there"\n', reasoning: '', calls: [], invalid: [], warning: null }, deltas: [] });
  });

  it('streams nothing of a call, and sends it whole at the end', () => {
    const r = new ReplyReader('json', null);
    const text = '{"tool": "add", "arguments": {"a": 3, "b": 4}}';
    expect([text.slice(0, 10), text.slice(10)].flatMap((c) => r.push(c))).toEqual([]);
    const { reply, deltas } = r.finish();
    expect(reply.calls.map((c) => [c.name, c.arguments])).toEqual([['add', { a: 3, b: 4 }]]);
    expect(deltas).toEqual([
      { type: 'tool_call', index: 0, id: reply.calls[0]!.id, name: 'add' },
      { type: 'tool_call', index: 0, arguments: '{"a":3,"b":4}' },
    ]);
  });
});
