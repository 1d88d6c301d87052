// A chat's own settings (system prompt and sampling) and the named presets. Plain data with no Node or zod
// imports: the renderer bundles this file as it is, so the presets have one definition on both sides.

export type PresetName = 'precise' | 'balanced' | 'creative' | 'custom';

/** Sampling of one chat. Absent fields fall back to the server's defaults. */
export interface ChatSampling {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  repeatPenalty: number;
  maxTokens: number;
  /** Null: a new random seed for every reply. */
  seed: number | null;
  /** The most tokens of history this chat may use (null: the model's whole window); older messages are dropped beyond it. */
  contextTokens: number | null;
}

export interface ChatSettings {
  preset: PresetName;
  /** Null: the app's default system prompt. */
  systemPrompt: string | null;
  sampling: ChatSampling;
}

export const PRESETS: Record<Exclude<PresetName, 'custom'>, { label: string; sampling: ChatSampling }> = {
  precise: { label: 'Precise', sampling: { temperature: 0.2, topP: 0.9, topK: 20, minP: 0.05, repeatPenalty: 1.1, maxTokens: 1024, seed: null, contextTokens: null } },
  balanced: { label: 'Balanced', sampling: { temperature: 0.7, topP: 0.95, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 1024, seed: null, contextTokens: null } },
  creative: { label: 'Creative', sampling: { temperature: 1.1, topP: 0.98, topK: 100, minP: 0.02, repeatPenalty: 1.05, maxTokens: 2048, seed: null, contextTokens: null } },
};

export const DEFAULT_CHAT_SETTINGS: ChatSettings = { preset: 'balanced', systemPrompt: null, sampling: { ...PRESETS.balanced.sampling } };

/** Bounds of every field (the server's zod schema and the panel's inputs use the same). */
export const SAMPLING_LIMITS = {
  temperature: { min: 0, max: 5, step: 0.05 },
  topP: { min: 0.01, max: 1, step: 0.01 },
  topK: { min: 0, max: 1000, step: 1 },
  minP: { min: 0, max: 1, step: 0.01 },
  repeatPenalty: { min: 0.5, max: 2, step: 0.01 },
  maxTokens: { min: 1, max: 32_768, step: 1 },
  seed: { min: 0, max: 0xffffffff, step: 1 },
  contextTokens: { min: 64, max: 1 << 20, step: 64 },
} as const;

/** The preset whose values these are, or 'custom'. */
export function presetOf(sampling: ChatSampling): PresetName {
  for (const [name, p] of Object.entries(PRESETS)) {
    const s = p.sampling;
    if (
      s.temperature === sampling.temperature &&
      s.topP === sampling.topP &&
      s.topK === sampling.topK &&
      s.minP === sampling.minP &&
      s.repeatPenalty === sampling.repeatPenalty &&
      s.maxTokens === sampling.maxTokens
    )
      return name as PresetName;
  }
  return 'custom';
}
