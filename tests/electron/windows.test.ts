// Window security: webPreferences, the CSP, and the navigation / new-window / webview / permission handlers,
// driven through the fake electron module.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { QUICK_ASK_ROUTE, quickAskWindowOptions } from '../../electron/main/quick-ask.js';
import {
  buildCsp,
  errorScreenUrl,
  hardenSession,
  hardenWebContents,
  isSafeExternalUrl,
  mainWindowOptions,
  screenCsp,
  secureWebPreferences,
  startingScreenUrl,
  withCspHeader,
} from '../../electron/main/windows.js';
import { FakeSession, FakeWebContents } from './fake-electron.js';

const BACKEND = 'http://127.0.0.1:8756';
const decode = (dataUrl: string): string => decodeURIComponent(dataUrl.slice(dataUrl.indexOf(',') + 1));

describe('webPreferences', () => {
  it('isolates, sandboxes and disables node in every window', () => {
    const prefs = secureWebPreferences('/app/preload/index.cjs', '1.2.3');
    expect(prefs).toMatchObject({
      preload: '/app/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
    });
    expect(prefs.additionalArguments).toEqual(['--westfall-app-version=1.2.3']);
    for (const options of [mainWindowOptions({ preloadPath: '/p', appVersion: '1.0.0' }), quickAskWindowOptions('/p', '1.0.0')]) {
      expect(options.webPreferences).toEqual(secureWebPreferences('/p', '1.0.0'));
    }
  });

  it('makes the quick-ask window small, frameless and always on top', () => {
    const o = quickAskWindowOptions('/p', '1.0.0');
    expect(o).toMatchObject({ frame: false, alwaysOnTop: true, resizable: false, skipTaskbar: true, show: false });
    expect(o.width).toBeLessThanOrEqual(800);
    expect(o.height).toBeLessThanOrEqual(300);
    expect(QUICK_ASK_ROUTE).toBe('/#/quick');
  });
});

describe('Content-Security-Policy', () => {
  const csp = buildCsp({ httpOrigin: BACKEND, wsOrigin: 'ws://127.0.0.1:8756' });

  it('allows only the backend: own scripts, connections to its http and ws origins', () => {
    expect(csp).toBe(
      [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "media-src 'self' blob:",
        'connect-src http://127.0.0.1:8756 ws://127.0.0.1:8756',
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "child-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
      ].join('; '),
    );
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|wasm-unsafe-eval|\*/);
  });

  it('rejects anything but bare origins', () => {
    expect(() => buildCsp({ httpOrigin: 'http://127.0.0.1:8756/path', wsOrigin: 'ws://127.0.0.1:8756' })).toThrow();
    expect(() => buildCsp({ httpOrigin: 'ws://127.0.0.1:8756', wsOrigin: 'ws://127.0.0.1:8756' })).toThrow();
    expect(() => buildCsp({ httpOrigin: BACKEND, wsOrigin: "ws://127.0.0.1:8756; script-src 'unsafe-eval'" })).toThrow();
  });

  it('replaces any CSP the response had, whatever the header case', () => {
    const out = withCspHeader({ 'content-security-policy': ["default-src *"], 'Content-Security-Policy-Report-Only': ['x'], 'Content-Type': ['text/html'] }, csp);
    expect(out).toEqual({ 'Content-Type': ['text/html'], 'Content-Security-Policy': [csp], 'X-Content-Type-Options': ['nosniff'] });
  });

  it('is put on every response of the session, following the backend address', () => {
    const session = new FakeSession();
    let origin = BACKEND;
    hardenSession(session, () => buildCsp({ httpOrigin: origin, wsOrigin: origin.replace('http', 'ws') }));
    expect(session.respond(`${BACKEND}/`, { 'content-type': ['text/html'] })).toMatchObject({ 'Content-Security-Policy': [csp] });
    origin = 'http://127.0.0.1:9000';
    expect(String(session.respond('http://127.0.0.1:9000/app.js')?.['Content-Security-Policy'])).toContain('connect-src http://127.0.0.1:9000 ws://127.0.0.1:9000');
  });
});

describe('permissions', () => {
  it('denies every permission request and check', async () => {
    const session = new FakeSession();
    hardenSession(session, () => "default-src 'none'");
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) expect(await session.request(p)).toBe(false);
    expect(session.permissionCheckHandler?.({}, 'media', BACKEND, {})).toBe(false);
  });
});

describe('navigation, new windows and webviews', () => {
  function setup(backend: string | null = BACKEND) {
    const contents = new FakeWebContents(new FakeSession());
    const opened: string[] = [];
    hardenWebContents(contents, { backendOrigin: () => backend, openExternal: (u) => void opened.push(u) });
    return { contents, opened };
  }

  it('allows navigation within the backend origin only', () => {
    const { contents, opened } = setup();
    expect(contents.navigate(`${BACKEND}/#/models`)).toBe(false);
    expect(contents.navigate(`${BACKEND}/chat?x=1`)).toBe(false);
    expect(contents.navigate('http://127.0.0.1:8757/')).toBe(true);
    expect(contents.navigate('http://localhost:8756/')).toBe(true);
    expect(contents.navigate('file:///etc/passwd')).toBe(true);
    expect(contents.navigate('javascript:alert(1)')).toBe(true);
    expect(opened).toEqual(['http://127.0.0.1:8757/', 'http://localhost:8756/']);
  });

  it('blocks all navigation while no backend runs', () => {
    const { contents } = setup(null);
    expect(contents.navigate(`${BACKEND}/`)).toBe(true);
  });

  it('opens external http(s) links in the browser instead of navigating', () => {
    const { contents, opened } = setup();
    expect(contents.navigate('https://example.com/docs')).toBe(true);
    expect(opened).toEqual(['https://example.com/docs']);
  });

  it('blocks redirects away from the backend', () => {
    const { contents, opened } = setup();
    expect(contents.redirect(`${BACKEND}/login`)).toBe(false);
    expect(contents.redirect('https://evil.example/')).toBe(true);
    expect(opened).toEqual([]);
  });

  it('denies every new window; safe links go to the browser', () => {
    const { contents, opened } = setup();
    expect(contents.open('https://example.com/a')).toEqual({ action: 'deny' });
    expect(contents.open(`${BACKEND}/popup`)).toEqual({ action: 'deny' });
    expect(contents.open('file:///tmp/x')).toEqual({ action: 'deny' });
    expect(contents.open('https://user:pass@example.com/')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://example.com/a', `${BACKEND}/popup`]);
  });

  it('refuses <webview>', () => {
    expect(setup().contents.attachWebview()).toBe(true);
  });

  it('validates external links', () => {
    expect(isSafeExternalUrl('https://example.com/a?b=c')).toBe(true);
    expect(isSafeExternalUrl('http://example.com')).toBe(true);
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'https://u:p@example.com', 'not a url', `https://e.com/${'a'.repeat(3000)}`, 'data:text/html,x']) {
      expect(isSafeExternalUrl(bad), bad).toBe(false);
    }
  });
});

describe('static screens', () => {
  it('shows the error without any script, with a CSP that allows only its stylesheet', () => {
    const url = errorScreenUrl({ message: 'It exited <img src=x onerror=alert(1)>', outputTail: 'line 1\n<script>alert(2)</script>', logsDir: '/logs' });
    expect(url.startsWith('data:text/html;charset=utf-8,')).toBe(true);
    const html = decode(url);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).toContain('It exited &lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('/logs');
    expect(html).toContain('Retry starting the engine');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(csp).toBe(screenCsp());
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
  });

  it('has a starting screen of the same kind', () => {
    const html = decode(startingScreenUrl('Restarting <now>'));
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Restarting &lt;now&gt;');
  });
});
