// One instance per user: a second launch hands its arguments to the first and quits. The arguments travel as
// the lock's additionalData (Chromium may reorder the argv the first instance receives; additionalData is
// exactly what the second instance saw), with the raw argv as the fallback.
import { z } from 'zod';
import type { AppLike } from './electron-api.js';
import { MAX_QUICK_ASK_CHARS } from '../shared/contract.js';

export interface DesktopArgs {
  /** `--quick-ask "text"` / `--quick-ask=text`; '' for a bare `--quick-ask`; undefined when absent. */
  quickAsk?: string;
  /** `--hidden`: start in the tray without showing the main window. */
  hidden: boolean;
}

const additionalDataSchema = z.object({ argv: z.array(z.string().max(MAX_QUICK_ASK_CHARS + 64)).max(64) });

export function parseDesktopArgs(argv: readonly string[]): DesktopArgs {
  const out: DesktopArgs = { hidden: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--hidden') out.hidden = true;
    else if (a.startsWith('--quick-ask=')) out.quickAsk = a.slice('--quick-ask='.length);
    else if (a === '--quick-ask') {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        out.quickAsk = next;
        i++;
      } else out.quickAsk = '';
    }
  }
  if (out.quickAsk !== undefined) out.quickAsk = out.quickAsk.slice(0, MAX_QUICK_ASK_CHARS);
  return out;
}

/** The arguments this process was started with, without the executable (and the script in development). */
export function ownArgs(argv: readonly string[], isPackaged: boolean): string[] {
  return argv.slice(isPackaged ? 1 : 2);
}

export interface SingleInstanceOptions {
  /** This process's own arguments (see ownArgs). */
  args: readonly string[];
  /** Called in the first instance for each later launch. */
  onSecondInstance: (args: DesktopArgs) => void;
}

/**
 * Takes the single-instance lock. Returns false in a second instance (which should quit at once: its
 * arguments have been handed over); true in the first, which then receives `onSecondInstance`.
 */
export function acquireSingleInstance(app: Pick<AppLike, 'requestSingleInstanceLock' | 'on'>, options: SingleInstanceOptions): boolean {
  const got = app.requestSingleInstanceLock({ argv: [...options.args] });
  if (!got) return false;
  app.on('second-instance', (_event: unknown, argv: unknown, _cwd: unknown, additionalData: unknown) => {
    const data = additionalDataSchema.safeParse(additionalData);
    const raw = data.success ? data.data.argv : Array.isArray(argv) ? argv.filter((a): a is string => typeof a === 'string') : [];
    options.onSecondInstance(parseDesktopArgs(raw));
  });
  return true;
}
