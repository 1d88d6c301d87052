import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, SETTING_KEYS, defaultDataDir, loadConfig, readEnvFile, settingsSchema } from '../../src/config/index.js';
import { TINY_MODEL, tempDir } from './helpers.js';

describe('config', () => {
  let tmp: ReturnType<typeof tempDir>;
  let cwd: string;
  let dataDir: string;
  beforeEach(() => {
    tmp = tempDir();
    cwd = join(tmp.dir, 'work');
    dataDir = join(tmp.dir, 'data');
    mkdirSync(cwd);
    mkdirSync(dataDir);
  });
  afterEach(() => tmp.cleanup());

  it('uses the defaults when nothing is set', () => {
    const { config, sources } = loadConfig({ env: { WESTFALL_DATA_DIR: dataDir }, cwd });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8756);
    expect(config.contextSize).toBe(4096);
    expect(config.parallel).toBe(4);
    expect(config.gpuLayers).toBe('auto');
    expect(config.sampling).toEqual({ temperature: 0.7, topP: 0.9, topK: 40, maxTokens: 2048 });
    expect(config.modelsDir).toBe(join(dataDir, 'models'));
    expect(config.logsDir).toBe(join(dataDir, 'logs'));
    expect(config.apiTokenGenerated).toBe(true);
    expect(config.apiToken.length).toBeGreaterThanOrEqual(32);
    expect(sources.WESTFALL_PORT).toBe('default');
  });

  it('GPU layers: auto, all (-1), a number; anything else names the key', () => {
    const layers = (v: string) => loadConfig({ env: { WESTFALL_DATA_DIR: dataDir, WESTFALL_GPU_LAYERS: v }, cwd, envFiles: false }).config.gpuLayers;
    expect(layers('auto')).toBe('auto');
    expect(layers('-1')).toBe(-1);
    expect(layers('20')).toBe(20);
    expect(() => layers('most')).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ key: 'WESTFALL_GPU_LAYERS' })] }));
    expect(() => layers('-2')).toThrow(ConfigError);
  });

  it('generates a different token per launch unless one is configured', () => {
    const a = loadConfig({ env: {}, envFiles: false }).config.apiToken;
    const b = loadConfig({ env: {}, envFiles: false }).config.apiToken;
    expect(a).not.toBe(b);
    const c = loadConfig({ env: { WESTFALL_API_TOKEN: 'a-configured-token-123' }, envFiles: false }).config;
    expect(c.apiToken).toBe('a-configured-token-123');
    expect(c.apiTokenGenerated).toBe(false);
  });

  it('applies precedence: flags > environment > .env in cwd > .env in the data dir > defaults', () => {
    writeFileSync(join(cwd, '.env'), `WESTFALL_PORT=1111\nWESTFALL_TOP_K=11\nWESTFALL_DATA_DIR=${dataDir}\nWESTFALL_PARALLEL=3\n`);
    writeFileSync(join(dataDir, '.env'), 'WESTFALL_PORT=2222\nWESTFALL_TOP_K=22\nWESTFALL_MAX_TOKENS=222\nWESTFALL_PARALLEL=2\n');
    const { config, sources, envFiles } = loadConfig({
      env: { WESTFALL_TOP_K: '33', WESTFALL_PARALLEL: '5' },
      cwd,
      overrides: { WESTFALL_PARALLEL: '6' },
    });
    expect(envFiles).toEqual([join(cwd, '.env'), join(dataDir, '.env')]);
    expect(config.parallel).toBe(6); // flag beats env
    expect(sources.WESTFALL_PARALLEL).toBe('override');
    expect(config.sampling.topK).toBe(33); // env beats both files
    expect(sources.WESTFALL_TOP_K).toBe('env');
    expect(config.port).toBe(1111); // cwd .env beats data dir .env
    expect(config.sampling.maxTokens).toBe(222); // data dir .env beats the default
    expect(config.sampling.temperature).toBe(0.7); // default
    expect(sources.WESTFALL_TEMPERATURE).toBe('default');
  });

  it('treats an empty value as unset', () => {
    const { config } = loadConfig({ env: { WESTFALL_PORT: '', WESTFALL_MODEL: '  ' }, envFiles: false });
    expect(config.port).toBe(8756);
    expect(config.model).toBeNull();
  });

  it('reports every invalid key at once, with the reason, and never echoes the token', () => {
    let err: unknown;
    try {
      loadConfig({
        env: {
          WESTFALL_PORT: 'eighty',
          WESTFALL_TOP_P: '1.5',
          WESTFALL_LOG_LEVEL: 'loud',
          WESTFALL_API_TOKEN: 'short secret',
          WESTFALL_PARALLEL: '0',
          WESTFALL_LOG_FILE: 'maybe',
          WESTFALL_ALLOWED_ORIGINS: 'http://ok.example, not an origin',
        },
        envFiles: false,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('invalid_config');
    expect(e.issues.map((i) => i.key).sort()).toEqual(
      ['WESTFALL_ALLOWED_ORIGINS', 'WESTFALL_API_TOKEN', 'WESTFALL_LOG_FILE', 'WESTFALL_LOG_LEVEL', 'WESTFALL_PARALLEL', 'WESTFALL_PORT', 'WESTFALL_TOP_P'].sort(),
    );
    for (const key of ['WESTFALL_PORT', 'WESTFALL_TOP_P', 'WESTFALL_LOG_LEVEL', 'WESTFALL_PARALLEL']) expect(e.message).toContain(key);
    expect(e.issues.find((i) => i.key === 'WESTFALL_PORT')!.message).toMatch(/number/);
    expect(e.issues.find((i) => i.key === 'WESTFALL_LOG_LEVEL')!.message).toMatch(/one of/);
    expect(e.message).not.toContain('short secret');
  });

  it('rejects a model path that does not exist and resolves one in the models directory', () => {
    expect(() => loadConfig({ env: { WESTFALL_MODEL: join(tmp.dir, 'missing.gguf') }, envFiles: false })).toThrow(/WESTFALL_MODEL/);
    const modelsDir = join(TINY_MODEL, '..');
    const { config } = loadConfig({ env: { WESTFALL_MODEL: 'tiny-qwen2.gguf', WESTFALL_MODELS_DIR: modelsDir }, cwd, envFiles: false });
    expect(config.model).toBe(TINY_MODEL);
  });

  it('warns about unknown WESTFALL_ keys (typos)', () => {
    const { warnings } = loadConfig({ env: { WESTFALL_PROT: '1', OTHER: 'x' }, envFiles: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('WESTFALL_PROT');
  });

  it('chooses the data directory per OS', () => {
    expect(defaultDataDir({ platform: 'win32', env: { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }, home: 'C:\\Users\\ann' })).toBe(
      'C:\\Users\\ann\\AppData\\Local\\Westfall\\Assistant',
    );
    expect(defaultDataDir({ platform: 'darwin', env: {}, home: '/Users/ann' })).toBe('/Users/ann/Library/Application Support/Westfall/Assistant');
    expect(defaultDataDir({ platform: 'linux', env: {}, home: '/home/ann' })).toBe('/home/ann/.local/share/westfall-assistant');
    expect(defaultDataDir({ platform: 'linux', env: { XDG_DATA_HOME: '/data/xdg' }, home: '/home/ann' })).toBe('/data/xdg/westfall-assistant');
    // a relative XDG_DATA_HOME is invalid per the spec and ignored
    expect(defaultDataDir({ platform: 'linux', env: { XDG_DATA_HOME: 'rel' }, home: '/home/ann' })).toBe('/home/ann/.local/share/westfall-assistant');
  });

  it('.env.example documents every setting with a valid default', () => {
    const example = readEnvFile(join(import.meta.dirname, '..', '..', '.env.example'));
    expect(example).not.toBeNull();
    expect(Object.keys(example!).sort()).toEqual([...SETTING_KEYS].sort());
    const nonEmpty = Object.fromEntries(Object.entries(example!).filter(([, v]) => v !== ''));
    const parsed = settingsSchema.safeParse(nonEmpty);
    expect(parsed.success).toBe(true);
    // the example's values are the schema's defaults
    const defaults = settingsSchema.parse({});
    expect(parsed.data).toEqual(defaults);
    expect(readFileSync(join(import.meta.dirname, '..', '..', '.env.example'), 'utf8')).toContain('WESTFALL_HOST=127.0.0.1');
  });
});
