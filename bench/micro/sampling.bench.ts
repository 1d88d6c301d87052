// The cost of one generation step on the tiny model (decode of one token is cheap there, so sampling over
// the 152k-entry vocabulary is a large share): greedy, the default chain (fast top-k path), and a chain
// with a repetition penalty (the full-vocabulary path).
import type { Context } from '../../src/engine/index.js';
import type { MicroSuite } from './common.js';

const STEPS = 16;

export const suite: MicroSuite = {
  name: 'sampling',
  async setup(env) {
    const model = await env.tinyModel();
    const ctx: Context = await model.createContext({ contextSize: 512, threads: 1, batchSize: 64 });
    const prompt = model.tokenize('The weather today is', { addSpecial: true });
    const run = (params: Parameters<Context['generate']>[1]) => async () => {
      await ctx.generate(prompt, { maxTokens: STEPS, ignoreEos: true, sequence: 0, ...params }).result;
    };
    return {
      tasks: [
        { name: 'generate step, greedy (temperature 0)', fn: run({ temperature: 0 }), opsPerCall: STEPS, unit: 'token' },
        { name: 'generate step, default chain (top-k 40, top-p 0.9, temp 0.7)', fn: run({ seed: 1 }), opsPerCall: STEPS, unit: 'token' },
        { name: 'generate step, default chain + repeat penalty 1.1', fn: run({ seed: 1, repeatPenalty: 1.1 }), opsPerCall: STEPS, unit: 'token' },
      ],
      cleanup: () => ctx.dispose(),
    };
  },
};
