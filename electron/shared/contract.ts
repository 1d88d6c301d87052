// The contract between the main process and the preload: IPC channel names and the zod schemas of every
// payload. Both sides validate: the preload rejects bad calls from the page early, and the main process
// never trusts what arrives over IPC (a compromised renderer can bypass the preload).
// zod/mini (same engine, tree-shakable API) keeps the bundled preload at ~15 kB instead of ~450 kB.
import * as z from 'zod/mini';

export const CHANNELS = {
  /** invoke → BackendInfo (only for frames on the backend's origin). */
  getBackend: 'westfall:get-backend',
  /** invoke(NotifyRequest) → void. */
  notify: 'westfall:notify',
  /** invoke → QuickAskEvent | null: a quick-ask that arrived before the page subscribed. */
  takeQuickAsk: 'westfall:take-quick-ask',
  /** invoke(ChooseFolderRequest) → ChooseFolderResult: the native folder dialog (null when cancelled). */
  chooseFolder: 'westfall:choose-folder',
  /** main → renderer: QuickAskEvent. */
  quickAsk: 'westfall:quick-ask',
} as const;

/** The preload reads the app version from this switch of `webPreferences.additionalArguments`. */
export const VERSION_ARG = '--westfall-app-version=';

export const MAX_QUICK_ASK_CHARS = 4000;

export const notifyRequestSchema = z.strictObject({
  title: z.string().check(z.trim(), z.minLength(1, 'title must not be empty'), z.maxLength(120, 'title must be at most 120 characters')),
  body: z.string().check(z.maxLength(1000, 'body must be at most 1000 characters')),
});
export type NotifyRequest = z.infer<typeof notifyRequestSchema>;

export const quickAskEventSchema = z.strictObject({ text: z.string().check(z.maxLength(MAX_QUICK_ASK_CHARS)) });
export type QuickAskEvent = z.infer<typeof quickAskEventSchema>;

export const chooseFolderRequestSchema = z.strictObject({
  title: z.optional(z.string().check(z.maxLength(120, 'title must be at most 120 characters'))),
});
export type ChooseFolderRequest = z.infer<typeof chooseFolderRequestSchema>;

/** The chosen folder's absolute path, or null when the user cancelled. */
export const chooseFolderResultSchema = z.nullable(z.strictObject({ path: z.string().check(z.minLength(1), z.maxLength(4096)) }));
export type ChooseFolderResult = z.infer<typeof chooseFolderResultSchema>;

const loopbackHttpOrigin = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/;
export const backendInfoSchema = z.strictObject({
  baseUrl: z.string().check(z.regex(loopbackHttpOrigin, 'baseUrl must be a loopback http origin')),
  wsUrl: z.string().check(z.regex(/^ws:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/, 'wsUrl must be a loopback ws origin')),
  token: z.string().check(z.minLength(16), z.maxLength(512), z.regex(/^[\x21-\x7e]+$/)),
});
export type BackendInfo = z.infer<typeof backendInfoSchema>;

export const appVersionSchema = z.string().check(z.regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/));

/** What `window.westfall` offers the page (see electron/preload/api.ts and docs/desktop.md). */
export interface WestfallDesktopApi {
  /** The app's version, e.g. "0.1.0". */
  readonly appVersion: string;
  /** The backend's address and bearer token for this launch. */
  getBackend(): Promise<BackendInfo>;
  /** Calls `callback` for each quick-ask (shortcut, tray, `--quick-ask "text"`); returns an unsubscribe function. */
  onQuickAsk(callback: (event: QuickAskEvent) => void): () => void;
  /** Shows a native notification. Rejects on an invalid title or body. */
  notify(title: string, body: string): Promise<void>;
  /** Opens the native folder dialog; resolves with the chosen absolute path, or null when cancelled. */
  chooseFolder(options?: ChooseFolderRequest): Promise<string | null>;
}

/** One line per problem, for error messages. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
