// The pure parts of /v1 function calling: tool_choice, message conversion, and splitting a streamed reply
// into text to show now and calls to send at the end, in both output formats.
import { describe, expect, it } from 'vitest';
import { ClientTools, ReplyStream, parseToolChoice, readReply, toTemplateMessages } from '../../src/server/openai-tools.js';

const feed = (s: ReplyStream, chunks: string[]) => chunks.map((c) => s.push(c)).join('');

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
  it('passes earlier calls to the template with their arguments as objects', () => {
    const [m] = toTemplateMessages([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }] },
    ]);
    expect(m).toEqual({ role: 'assistant', content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: { a: 1, b: 2 } } }] });
    expect(toTemplateMessages([{ role: 'developer', content: [{ type: 'text', text: 'be brief' }] }])[0]).toEqual({ role: 'system', content: 'be brief' });
  });
});

describe('reply stream, template format', () => {
  it('holds back a call and returns it complete at the end', () => {
    const s = new ReplyStream('template');
    const text = '<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>';
    expect(feed(s, ['<tool', '_call>\n{"name": "add", ', '"arguments": {"a": 1, "b": 2}}\n</tool_call>'])).toBe('');
    const end = s.finish(text);
    expect(end.rest).toBe('');
    expect(end.toolCalls).toEqual([{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }]);
  });

  it('streams an answer as soon as it cannot be a call', () => {
    const s = new ReplyStream('template');
    expect(s.push(' ')).toBe('');
    expect(s.push(' Hel')).toBe('  Hel');
    expect(s.push('lo <tool_call>')).toBe('lo <tool_call>');
    expect(s.finish('  Hello <tool_call>')).toEqual({ rest: '', toolCalls: [] });
  });

  it('a reply cut off inside the opening tag is sent as text at the end', () => {
    const s = new ReplyStream('template');
    expect(s.push('<tool_')).toBe('');
    expect(s.finish('<tool_')).toEqual({ rest: '<tool_', toolCalls: [] });
    expect(readReply('<tool_call>\n{"name": "ad', 'template')).toEqual({ content: '<tool_call>\n{"name": "ad', toolCalls: [] });
  });
});

describe('reply stream, JSON mode', () => {
  it('streams the decoded answer', () => {
    const s = new ReplyStream('json');
    expect(feed(s, ['{"ans', 'wer": "Hi', ' \\"there\\"', '\\n"}'])).toBe('Hi "there"\n');
    expect(s.finish('{"answer": "Hi \\"there\\"\\n"}')).toEqual({ rest: '', toolCalls: [] });
    expect(readReply('{"answer": "Hi"}', 'json')).toEqual({ content: 'Hi', toolCalls: [] });
  });

  it('returns a call at the end and streams nothing of it', () => {
    const s = new ReplyStream('json');
    const text = '{"tool": "add", "arguments": {"a": 3, "b": 4}}';
    expect(feed(s, [text.slice(0, 10), text.slice(10)])).toBe('');
    const end = s.finish(text);
    expect(end.toolCalls.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([['add', { a: 3, b: 4 }]]);
  });
});
