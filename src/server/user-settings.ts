// Settings the user changes in the app and the backend keeps: `<dataDir>/state/settings.json`.
//   { "loadLastModel": true, "lastModel": "/abs/path/model.gguf" }
// loadLastModel (default on): at start, load the model that was last loaded, as LM Studio and Jan do, so a
// restart does not leave the app with "no model". The path is recorded whenever a model finishes loading.
// WESTFALL_MODEL / --model, when set, wins over it.
import path from 'node:path';
import { z } from 'zod';
import { isSupportedLocale } from '../locale/index.js';
import type { Logger } from '../logging/index.js';
import type { ModelManager } from './model-manager.js';
import { readStateFile, writeStateFile } from './state-file.js';

export const SETTINGS_FILE = 'settings.json';

const localeSetting = z.string().min(2).max(35).refine(isSupportedLocale, 'a locale such as de-DE or en-US').nullable();

export const userSettingsSchema = z.object({
  loadLastModel: z.boolean().default(true),
  lastModel: z.string().min(1).max(4096).nullable().default(null),
  /** How numbers, amounts and dates are read and shown (BCP 47, e.g. 'de-DE'); null: the browser's or OS's. */
  locale: localeSetting.default(null),
});
export type UserSettingsData = z.output<typeof userSettingsSchema>;

/** What PATCH /api/settings accepts: only what the user chooses (lastModel is recorded, not set). */
export const userSettingsPatchSchema = z.object({ loadLastModel: z.boolean(), locale: localeSetting }).partial().strict();

export class UserSettings {
  readonly file: string | null;
  #data: UserSettingsData;

  private constructor(file: string | null, data: UserSettingsData) {
    this.file = file;
    this.#data = data;
  }

  /**
   * Reads the file; a missing one means defaults. A damaged one is reported through `log` and replaced by
   * defaults on the next change (settings are conveniences: a bad file must not stop the backend).
   */
  static open(stateDir: string, log?: Logger): UserSettings {
    const file = path.join(stateDir, SETTINGS_FILE);
    return new UserSettings(file, readStateFile(file, userSettingsSchema, 'settings', log));
  }

  static inMemory(data: Partial<UserSettingsData> = {}): UserSettings {
    return new UserSettings(null, userSettingsSchema.parse(data));
  }

  get(): UserSettingsData {
    return { ...this.#data };
  }

  update(patch: Partial<UserSettingsData>): UserSettingsData {
    this.#data = userSettingsSchema.parse({ ...this.#data, ...patch });
    if (this.file) writeStateFile(this.file, this.#data);
    return this.get();
  }
}

/** Records every model that finishes loading as the last used one. Returns the unsubscribe function. */
export function rememberLastModel(manager: ModelManager, settings: UserSettings, log?: Logger): () => void {
  const onState = (s: { state: string; path: string | null }) => {
    if (s.state !== 'ready' || !s.path || s.path === settings.get().lastModel) return;
    try {
      settings.update({ lastModel: s.path });
    } catch (err) {
      log?.warn({ err }, 'the last used model could not be saved');
    }
  };
  manager.on('state', onState);
  return () => manager.off('state', onState);
}

export type StartupModel =
  | { path: string; source: 'configured' | 'last-used' }
  | { path: null; reason: string };

/**
 * The model to load at start: the configured one, else (when the setting is on) the last used one if it is
 * still a GGUF file. `check` says what is wrong with a file (missing, not GGUF), or null.
 */
export function chooseStartupModel(configured: string | null, settings: UserSettingsData, check: (file: string) => string | null): StartupModel {
  if (configured) return { path: configured, source: 'configured' };
  if (!settings.loadLastModel) return { path: null, reason: 'loading the last used model at start is turned off (Settings)' };
  if (!settings.lastModel) return { path: null, reason: 'no model configured (WESTFALL_MODEL or --model) and none used before: load one in the app (Models)' };
  const problem = check(settings.lastModel);
  if (problem) return { path: null, reason: `the last used model cannot be loaded: ${problem}` };
  return { path: settings.lastModel, source: 'last-used' };
}
