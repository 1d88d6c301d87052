// Tokenizer round trips through the addon (qwen2 BPE, 152k vocabulary).
import { sampleText, type MicroSuite } from './common.js';

export const suite: MicroSuite = {
  name: 'tokenize',
  async setup(env) {
    const model = await env.tinyModel();
    const short = 'Hello! How are you today?';
    const long = sampleText(4096);
    const longTokens = model.tokenize(long);
    return {
      tasks: [
        { name: `tokenize short (${short.length} chars)`, fn: () => model.tokenize(short, { addSpecial: true, parseSpecial: true }) },
        { name: `tokenize 4k chars (${longTokens.length} tokens)`, fn: () => model.tokenize(long, { addSpecial: true, parseSpecial: true }) },
        { name: `detokenize ${longTokens.length} tokens`, fn: () => model.detokenize(longTokens) },
      ],
    };
  },
};
