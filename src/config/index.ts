// Settings: one zod schema, resolved from CLI flags > environment > .env > defaults.
export { settingsSchema, SETTING_KEYS, type Config, type Settings, type SettingKey, type RawSettings, type LogLevelName } from './schema.js';
export { loadConfig, configFrom, ConfigError, type LoadConfigOptions, type LoadedConfig, type ConfigIssue, type SettingSource } from './load.js';
export { defaultDataDir, dataSubdirs, type PlatformInfo } from './paths.js';
export { readEnvFile } from './env-file.js';
export { modelFileProblem } from './model-file.js';
