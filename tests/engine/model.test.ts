import { describe, expect, it } from 'vitest';
import { TINY_SPEC } from '../../src/gguf/index.js';
import { jsonSchemaToGrammar, loadModel, setLogHandler, systemInfo } from '../../src/index.js';
import { TINY_MODEL } from '../helpers/models.js';

describe('model', () => {
  it('reports metadata from the GGUF and llama.cpp', async () => {
    await using model = await loadModel({ path: TINY_MODEL });
    expect(model.info.architecture).toBe('qwen2');
    expect(model.info.layerCount).toBe(TINY_SPEC.nLayer);
    expect(model.info.embeddingLength).toBe(TINY_SPEC.nEmbd);
    expect(model.info.contextLength).toBe(TINY_SPEC.contextLength);
    expect(model.info.vocabSize).toBe(151936);
    expect(model.info.parameterCount).toBeGreaterThan(9e6);
    expect(model.info.chatTemplate).toContain('im_start');
    expect(model.info.fileSizeBytes).toBeGreaterThan(model.info.tensorSizeBytes);
    expect(model.info.metadata['general.architecture']).toBe('qwen2');
  });

  it('reports load progress up to 1', async () => {
    const seen: number[] = [];
    const model = await loadModel({ path: TINY_MODEL, onProgress: (p) => seen.push(p) });
    model.dispose();
    // Progress is delivered asynchronously: wait for the last report rather than a fixed time.
    await expect.poll(() => seen.at(-1)).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('routes llama.cpp log lines to a JavaScript handler', async () => {
    const lines: string[] = [];
    setLogHandler((level, message) => lines.push(`${level}: ${message}`), 'info');
    try {
      const model = await loadModel({ path: TINY_MODEL });
      model.dispose();
      await expect.poll(() => lines.some((l) => l.includes('qwen2'))).toBe(true);
    } finally {
      setLogHandler(null);
    }
  });

  it('describes the build and its devices', () => {
    const info = systemInfo();
    expect(info.backend).toBe('cpu');
    expect(info.devices.some((d) => d.type === 'cpu')).toBe(true);
    expect(info.cpuFeatures).toMatch(/CPU/);
  });

  it('turns a JSON schema into a GBNF grammar', () => {
    const g = jsonSchemaToGrammar({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] });
    expect(g).toMatch(/^root ::=/m);
    expect(() => jsonSchemaToGrammar({ type: 'object', properties: { n: { $ref: '#/nowhere' } } })).toThrow(
      expect.objectContaining({ code: 'invalid_params' }),
    );
  });
});
