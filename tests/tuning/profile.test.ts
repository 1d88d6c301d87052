import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import {
  createProfile,
  describeModel,
  listProfiles,
  loadProfile,
  parseProfile,
  profilePath,
  profileToEngineOptions,
  recommend,
  saveProfile,
  tuningProfileSchema,
  type TuningProfile,
} from '../../src/tuning/index.js';
import { TINY_MODEL } from '../helpers/models.js';
import { fakeReport, fakeResult } from './fake.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'westfall-profile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function profileFor(modelPath: string, createdAt?: string): Promise<TuningProfile> {
  const best = fakeResult({ threads: 1, batch: 256, fa: 'auto', pp: 300, tg: 50, ttft: 100 });
  const defaults = fakeResult({ threads: 2, batch: 512, fa: 'auto', pp: 250, tg: 40, ttft: 110, isDefault: true });
  const report = fakeReport([best, defaults]);
  report.model = await describeModel(modelPath);
  const p = createProfile(report, recommend(report.results), { chart: `${report.model.key}.svg` });
  return createdAt ? { ...p, createdAt } : p;
}

async function expectInvalid(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  let err: unknown;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  expect(isWestfallError(err, 'invalid_config')).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

describe('tuning profiles', () => {
  it('round-trips through <dataDir>/profiles/<model key>.json', async () => {
    const profile = await profileFor(TINY_MODEL);
    expect(profile.model.key).toMatch(/^tiny-qwen2-[0-9a-f]{16}$/);
    // auto resolved to what llama.cpp chose, so the backend gets an explicit setting
    expect(profile.settings).toMatchObject({ threads: 1, threadsBatch: 1, batchSize: 256, ubatchSize: 256, flashAttention: 'on', gpuLayers: 0, contextSize: 4096 });
    expect(profile.speedup!.tg).toBeCloseTo(1.25, 6);
    const file = await saveProfile(dir, profile);
    expect(file).toBe(path.join(dir, 'profiles', `${profile.model.key}.json`));
    expect(await loadProfile(dir, TINY_MODEL)).toEqual(profile);
    expect(await loadProfile(dir, profile.model.key)).toEqual(profile);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(profile);
    expect(profileToEngineOptions(profile)).toEqual({
      load: { gpuLayers: 0 },
      context: { contextSize: 4096, threads: 1, threadsBatch: 1, batchSize: 256, ubatchSize: 256, flashAttention: 'on' },
    });
  });

  it('finds the profile of a renamed copy of the model by its header hash', async () => {
    const copy = path.join(dir, 'Renamed Model.gguf');
    await copyFile(TINY_MODEL, copy);
    const loaded = await loadProfile(dir, copy);
    expect(loaded?.model.hash).toBe((await describeModel(TINY_MODEL)).hash);
  });

  it('returns null without a profile, and the newest one without a model', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'westfall-profile-empty-'));
    expect(await loadProfile(empty, TINY_MODEL)).toBeNull();
    expect(await loadProfile(empty)).toBeNull();
    await rm(empty, { recursive: true, force: true });
    const newer = { ...(await profileFor(TINY_MODEL, '2099-01-01T00:00:00.000Z')), model: { ...(await describeModel(TINY_MODEL)), key: 'other-model-0123456789abcdef' } };
    await saveProfile(dir, newer);
    expect((await loadProfile(dir))?.model.key).toBe('other-model-0123456789abcdef');
    const { profiles } = await listProfiles(dir);
    expect(profiles.map((p) => p.model.key)[0]).toBe('other-model-0123456789abcdef');
  });

  it('rejects invalid profiles with the field names', async () => {
    const good = await profileFor(TINY_MODEL);
    expect(() => parseProfile({ ...good, settings: { ...good.settings, ubatchSize: 1024, batchSize: 512 } })).toThrow(/settings\.ubatchSize/);
    expect(() => parseProfile({ ...good, settings: { ...good.settings, threads: 0 } })).toThrow(/settings\.threads/);
    expect(() => parseProfile({ ...good, settings: { ...good.settings, flashAttention: 'maybe' } })).toThrow(/settings\.flashAttention/);
    expect(() => parseProfile({ ...good, settings: { ...good.settings, extra: 1 } })).toThrow(/settings/);
    expect(() => parseProfile({ ...good, schemaVersion: 2 })).toThrow(/schemaVersion/);
    expect(() => parseProfile({ ...good, chart: '../x.svg' })).toThrow(/chart/);
    const { settings: _drop, ...noSettings } = good;
    expect(() => parseProfile(noSettings)).toThrow(/settings/);
    expect(tuningProfileSchema.safeParse(good).success).toBe(true);

    // Files on disk: a broken one is an error, not a silent default.
    const file = profilePath(dir, good.model.key);
    await writeFile(file, '{ not json');
    await expectInvalid(loadProfile(dir, TINY_MODEL), /not JSON/);
    await writeFile(file, JSON.stringify({ ...good, settings: { ...good.settings, gpuLayers: -5 } }));
    await expectInvalid(loadProfile(dir, TINY_MODEL), /settings\.gpuLayers/);
    const { invalid } = await listProfiles(dir);
    expect(invalid.map((i) => path.basename(i.file))).toContain(`${good.model.key}.json`);
    // saveProfile validates too
    await expectInvalid(saveProfile(dir, { ...good, settings: { ...good.settings, batchSize: 0 } }), /settings\.batchSize/);
  });

  it('refuses keys that would leave the profiles folder', () => {
    expect(() => profilePath(dir, '../evil')).toThrow(/invalid profile key/);
    expect(() => profilePath(dir, 'a/b')).toThrow(/invalid profile key/);
  });
});
