// A chat's own settings (system prompt, sampling preset and values; src/storage/chat-presets.ts) and what
// they become in a request. A chat without settings of its own uses the app's (Settings → Chat: system
// prompt, temperature, max tokens) on the Balanced preset's other values.
import { PRESETS, presetOf, type ChatSampling, type ChatSettings } from '../../../src/storage/chat-presets.js';
import type { GenerationParams } from '../api/types.js';
import type { ChatSettings as AppChatSettings } from '../store.js';

export { PRESETS, SAMPLING_LIMITS, presetOf, type ChatSampling, type ChatSettings, type PresetName } from '../../../src/storage/chat-presets.js';

/** The settings a chat without its own starts from. */
export function defaultSettings(app: AppChatSettings): ChatSettings {
  const sampling: ChatSampling = { ...PRESETS.balanced.sampling, temperature: app.temperature, maxTokens: app.maxTokens };
  return { preset: presetOf(sampling), systemPrompt: null, sampling };
}

export function effectiveSettings(own: ChatSettings | null, app: AppChatSettings): ChatSettings {
  return own ?? defaultSettings(app);
}

/** The system prompt sent (the chat's own, else the app's). */
export function systemPromptOf(s: ChatSettings, app: AppChatSettings): string {
  return s.systemPrompt ?? app.systemPrompt;
}

/** Sampling as the native chat API takes it. */
export type SamplingParams = Required<Pick<GenerationParams, 'temperature' | 'topP' | 'topK' | 'minP' | 'repeatPenalty' | 'maxTokens'>> & { seed?: number };

export function requestParams(s: ChatSampling): SamplingParams {
  return {
    temperature: s.temperature,
    topP: s.topP,
    topK: s.topK,
    minP: s.minP,
    repeatPenalty: s.repeatPenalty,
    maxTokens: s.maxTokens,
    ...(s.seed !== null ? { seed: s.seed } : {}),
  };
}

/** What the tool-using agent takes (it has no min-p or repeat penalty). */
export function agentParams(s: ChatSampling): { temperature: number; topP: number; topK: number; maxTokens: number; seed?: number } {
  return { temperature: s.temperature, topP: s.topP, topK: s.topK, maxTokens: s.maxTokens, ...(s.seed !== null ? { seed: s.seed } : {}) };
}

/** A preset chosen: its values, keeping the chat's seed and window (they are not part of a preset). */
export function applyPreset(s: ChatSettings, name: keyof typeof PRESETS): ChatSettings {
  return { ...s, preset: name, sampling: { ...PRESETS[name].sampling, seed: s.sampling.seed, contextTokens: s.sampling.contextTokens } };
}

/** One value changed by hand: the preset follows the values (a preset's exact values name it again). */
export function withSampling(s: ChatSettings, patch: Partial<ChatSampling>): ChatSettings {
  const sampling = { ...s.sampling, ...patch };
  return { ...s, sampling, preset: presetOf(sampling) };
}
