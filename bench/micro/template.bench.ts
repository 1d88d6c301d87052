// Chat template rendering with the model's own jinja template (Qwen2.5's, through llama.cpp's engine).
import type { ChatTemplateMessage } from '../../src/engine/index.js';
import { sampleText, type MicroSuite } from './common.js';

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } }, required: ['city'] },
    },
  },
];

export const suite: MicroSuite = {
  name: 'chat template',
  async setup(env) {
    const model = await env.tinyModel();
    const short: ChatTemplateMessage[] = [
      { role: 'system', content: 'You are concise.' },
      { role: 'user', content: 'Hello!' },
    ];
    const long: ChatTemplateMessage[] = [{ role: 'system', content: 'You are a helpful assistant.' }];
    for (let i = 0; i < 10; i++) long.push({ role: 'user', content: sampleText(300) }, { role: 'assistant', content: sampleText(400) });
    long.push({ role: 'user', content: 'And finally?' });
    return {
      tasks: [
        { name: 'system + user', fn: () => model.applyChatTemplate(short) },
        { name: '21 messages (~7k chars)', fn: () => model.applyChatTemplate(long) },
        { name: 'system + user + 1 tool', fn: () => model.applyChatTemplate(short, { tools: TOOLS }) },
      ],
    };
  },
};
