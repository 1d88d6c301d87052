// Desktop settings: `<userData>/desktop.json`, overridden by the environment. Only what the shell itself needs
// (the renderer's settings live in the backend).
//   { "quickAskShortcut": "CommandOrControl+Shift+Space" }   (null or "" turns the shortcut off)
//   { "workerHost": "127.0.0.1", "workerPort": 50052 }      (the tray's "Share this computer's memory")
// Environment: WESTFALL_QUICK_ASK_SHORTCUT (same values; "none" turns it off).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_QUICK_ASK_SHORTCUT } from './quick-ask.js';

const MODIFIER = '(?:Command|Cmd|Control|Ctrl|CommandOrControl|CmdOrCtrl|Alt|Option|AltGr|Shift|Super|Meta)';
const KEY =
  "(?:[A-Za-z0-9]|F(?:[1-9]|1\\d|2[0-4])|Space|Tab|Backspace|Delete|Insert|Return|Enter|Up|Down|Left|Right|Home|End|PageUp|PageDown|Escape|Esc|Plus|[-`~!@#$%^&*()=_\\[\\]{};:'\",.<>/?\\\\|])";
/** An Electron accelerator with at least one modifier (a bare key would steal it from every other app). */
export const ACCELERATOR_RE = new RegExp(`^(?:${MODIFIER}\\+)+${KEY}$`);

export const desktopSettingsSchema = z
  .object({
    quickAskShortcut: z
      .union([z.string().regex(ACCELERATOR_RE, 'must be an accelerator with a modifier, e.g. CommandOrControl+Shift+Space'), z.literal(''), z.null()])
      .transform((v) => (v === '' ? null : v))
      .default(DEFAULT_QUICK_ASK_SHORTCUT),
    // "Share this computer's memory" (tray): where `westfall worker` listens. 127.0.0.1 unless the user
    // chooses a network address (the RPC protocol has no authentication: docs/rpc.md).
    workerHost: z.string().min(1).max(255).default('127.0.0.1'),
    workerPort: z.number().int().min(1).max(65535).default(50052),
  })
  .strict();
export type DesktopSettings = z.output<typeof desktopSettingsSchema>;

export interface LoadedSettings {
  settings: DesktopSettings;
  /** Problems found (the defaults are used for what was bad). */
  warnings: string[];
  file: string;
}

export function loadDesktopSettings(userDataDir: string, env: NodeJS.ProcessEnv = process.env): LoadedSettings {
  const file = join(userDataDir, 'desktop.json');
  const warnings: string[] = [];
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) raw = parsed as Record<string, unknown>;
    else warnings.push(`${file}: must be a JSON object; using defaults`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warnings.push(`${file}: ${(err as Error).message}; using defaults`);
  }
  const fromEnv = env.WESTFALL_QUICK_ASK_SHORTCUT;
  if (fromEnv !== undefined) raw = { ...raw, quickAskShortcut: fromEnv.toLowerCase() === 'none' ? null : fromEnv };
  const result = desktopSettingsSchema.safeParse(raw);
  if (result.success) return { settings: result.data, warnings, file };
  for (const issue of result.error.issues) warnings.push(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}; using the default`);
  // Keep the valid keys, default the bad ones.
  const good: Record<string, unknown> = {};
  for (const key of Object.keys(desktopSettingsSchema.shape)) {
    const one = desktopSettingsSchema.shape[key as keyof typeof desktopSettingsSchema.shape].safeParse(raw[key]);
    if (one.success) good[key] = raw[key];
  }
  return { settings: desktopSettingsSchema.parse(good), warnings, file };
}
