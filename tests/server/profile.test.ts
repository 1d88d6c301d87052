// The backend applies the speed settings `westfall bench --save-profile` measured for a model.
import { describe, expect, it } from 'vitest';
import { ModelManager, chooseGpuLayers } from '../../src/server/index.js';
import { TINY_MODEL } from '../helpers/models.js';

const base = { contextSize: 512, gpuLayers: 0, parallel: 1, queueLimit: 4, sampling: { temperature: 0.7, topP: 0.9, topK: 40, maxTokens: 16 } };

describe('tuning profiles', () => {
  it('are applied when a model loads', async () => {
    const asked: string[] = [];
    const manager = new ModelManager({
      ...base,
      profileFor: async (path) => {
        asked.push(path);
        return { threads: 1, batchSize: 64, ubatchSize: 32, flashAttention: 'on' };
      },
    });
    try {
      const status = await manager.load(TINY_MODEL);
      expect(asked).toEqual([TINY_MODEL]);
      expect(status.context?.threads).toBe(1);
      expect(manager.context?.info.batchSize).toBe(64);
      expect(manager.context?.info.ubatchSize).toBe(32);
    } finally {
      await manager.close();
    }
  });

  it('yield to an explicit thread setting, and an unreadable profile falls back to defaults', async () => {
    const manager = new ModelManager({ ...base, threads: 2, profileFor: async () => ({ threads: 1 }) });
    try {
      expect((await manager.load(TINY_MODEL)).context?.threads).toBe(2);
    } finally {
      await manager.close();
    }
    const broken = new ModelManager({ ...base, threads: 1, profileFor: async () => Promise.reject(new Error('corrupt')) });
    try {
      expect((await broken.load(TINY_MODEL)).state).toBe('ready');
    } finally {
      await broken.close();
    }
  });

  it('GPU layers: an explicit number, else a profile measured with offload, else none without a GPU, else the planner', async () => {
    expect(chooseGpuLayers(12, 30, true)).toBe(12);
    expect(chooseGpuLayers(0, 30, true)).toBe(0);
    expect(chooseGpuLayers('auto', 30, true)).toBe(30);
    expect(chooseGpuLayers('auto', undefined, true)).toBe('plan');
    expect(chooseGpuLayers('auto', undefined, false)).toBe(0);
    // On this (CPU) build 'auto' loads with no GPU layers and the model works.
    const manager = new ModelManager({ ...base, gpuLayers: 'auto' });
    try {
      expect((await manager.load(TINY_MODEL)).state).toBe('ready');
      expect((await (await manager.chat({ messages: [{ role: 'user', content: 'hi' }], params: { maxTokens: 2 } })).result).usage.completionTokens).toBeGreaterThan(0);
    } finally {
      await manager.close();
    }
  });
});
