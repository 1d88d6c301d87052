// The desktop app's preload API (`window.westfall`, defined by electron/shared/contract.ts), mirrored
// structurally so the renderer builds without the electron folder. Absent in a browser.
export interface DesktopBackendInfo {
  baseUrl: string;
  wsUrl?: string;
  token: string;
}

export interface DesktopApi {
  readonly appVersion?: string;
  getBackend(): Promise<DesktopBackendInfo>;
  onQuickAsk?(callback: (event: { text: string }) => void): () => void;
  notify?(title: string, body: string): Promise<void>;
  /** The native folder dialog: the chosen absolute path, or null when cancelled. */
  chooseFolder?(options?: { title?: string }): Promise<string | null>;
}

export function desktopApi(): DesktopApi | null {
  const w = (globalThis as { westfall?: Partial<DesktopApi> }).westfall;
  return w && typeof w.getBackend === 'function' ? (w as DesktopApi) : null;
}
