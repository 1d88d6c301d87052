// The personal tools in the web UI, end to end in Chromium: finance (accounts, transactions, summary and
// charts), time tracking (timer, entries, hours per week), the vault (create, lock/unlock, generate, copy
// after confirmation), music (library folder with a real WAV file, playback streamed from the Range route with
// the session cookie; an earlier version's media service worker is removed), saved conversations with search, and the assistant's tool calls with
// Allow/Deny. The backend is createApp in-process with every plugin (the CLI does not register the tools'
// routes yet) and the tiny model loaded; the tool-calling test scripts the agent's model output (a random
// synthetic model cannot be made to call a given tool), everything else is real.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentBackend, AgentGeneration } from '../../src/tools/agent.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import type { ServerPlugin } from '../../src/server/index.js';
import {
  HAVE_CHROMIUM,
  buildRenderer,
  eventually,
  goTo,
  launchBrowser,
  login,
  openPage,
  screenshot,
  sleep,
  startInProcess,
  tempDir,
  type InProcessServer,
  type PageProbe,
} from './harness.js';

const T = 180_000;

/** A WAV file: `seconds` of a 440 Hz tone, 8 kHz mono 16-bit, with RIFF INFO tags. */
function writeWav(file: string, tags: { title: string; artist: string; album: string }, seconds = 3): void {
  const rate = 8000;
  const n = rate * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), i * 2);
  const sub = (id: string, text: string) => {
    const body = Buffer.from(`${text}\0`, 'latin1');
    const padded = body.length % 2 ? Buffer.concat([body, Buffer.alloc(1)]) : body;
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, padded]);
  };
  const info = Buffer.concat([Buffer.from('INFO', 'latin1'), sub('INAM', tags.title), sub('IART', tags.artist), sub('IPRD', tags.album)]);
  const chunk = (id: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0); // PCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * 2, 8);
  fmt.writeUInt16LE(2, 12);
  fmt.writeUInt16LE(16, 14);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), chunk('fmt ', fmt), chunk('data', data), chunk('LIST', info)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  writeFileSync(file, Buffer.concat([riff, body]));
}

/**
 * The agent's model output, scripted: the first step of a run calls finance_add_transaction, the step
 * after the tool result answers. A question about the balance says what it will do and makes two calls
 * in one step (one that reads, one that writes), then answers. Prompts are still rendered with the real
 * model's chat template, and the output is read in its chat format (Qwen2's: no thinking; thinking.test.ts
 * covers the agent's thinking with a template that has it).
 */
/** How many tools each request of the "say nothing" chat offered. */
const emptyAsked: number[] = [];

function scriptedAgent(server: () => InProcessServer, services: () => ToolServices): AgentBackend {
  return {
    model: () => {
      const m = server().manager.model;
      if (!m) throw new Error('no model');
      return m;
    },
    generate: async (request): Promise<AgentGeneration> => {
      const format = request.grammar ? 'json' : 'native';
      const chatFormat = server().manager.model!.tokenizeChat(request.messages, request.format).chatFormat;
      const question = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
      // A small model that says nothing when the tools are offered, and answers without them.
      if (/say nothing/.test(question)) emptyAsked.push(request.format.tools?.length ?? 0);
      if (/say nothing/.test(question)) return scripted(request.format.tools?.length ? '' : 'Here is an answer without tools.', chatFormat);
      if (format === 'native' && /lunch/.test(question)) {
        if (request.messages.some((m) => m.role === 'tool')) return scripted('Lunch recorded.', chatFormat);
        const call = { name: 'finance_add_transaction', arguments: { accountId: 1, date: new Date().toISOString().slice(0, 10), amount: -12.5, payee: 'Lunch spot', category: 'Food' } };
        return scripted(`<tool_call>\n${JSON.stringify(call)}\n</tool_call>`, chatFormat);
      }
      if (format === 'native' && /balance/.test(question) && !request.messages.some((m) => m.role === 'tool')) {
        const today = new Date().toISOString().slice(0, 10);
        const calls = [
          { name: 'finance_list_accounts', arguments: {} },
          { name: 'finance_add_transaction', arguments: { accountId: 1, date: today, amount: -2.5, payee: 'Balance bakery', category: 'Food' } },
        ];
        return scripted(`First the accounts, then the bakery purchase.\n${calls.map((c) => `<tool_call>\n${JSON.stringify(c)}\n</tool_call>`).join('\n')}`, chatFormat);
      }
      if (format === 'native' && /balance/.test(question)) return scripted('Your balance is listed, and the bakery is recorded.', chatFormat);
      // The user's question (tool results may also come back as user messages in the JSON format).
      const lastQuestion = request.messages.findLastIndex((m) => m.role === 'user' && m.content.includes('coffee') && !/"created"|declined/.test(m.content));
      const afterQuestion = request.messages
        .slice(lastQuestion + 1)
        .map((m) => m.content)
        .join('\n');
      const answered = /"created"|declined/.test(afterQuestion);
      const today = new Date().toISOString().slice(0, 10);
      const call = { name: 'finance_add_transaction', arguments: { accountId: 1, date: today, amount: -4.5, payee: 'Tool cafe', category: 'Coffee' } };
      const answer = /declined/.test(afterQuestion) ? 'Understood, I did not record it.' : 'Done: I recorded **4.50** at Tool cafe under Coffee.';
      const text = answered
        ? format === 'json'
          ? JSON.stringify({ answer })
          : answer
        : format === 'json'
          ? JSON.stringify({ tool: call.name, arguments: call.arguments })
          : `<tool_call>\n${JSON.stringify(call)}\n</tool_call>`;
      return scripted(text, chatFormat);
    },
  };
}

/** A generation that streams `text` in small pieces. */
function scripted(text: string, chatFormat: AgentGeneration['chatFormat']): AgentGeneration {
  const chunks = text.match(/.{1,6}/gs) ?? [text];
  let finished!: () => void;
  const consumed = new Promise<void>((resolve) => (finished = resolve));
  return {
    chatFormat,
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) {
        await sleep(15);
        yield { text: c };
      }
      finished();
    },
    result: consumed.then(() => ({ text, stopReason: 'eos', usage: { promptTokens: 10, completionTokens: chunks.length } })),
  };
}

describe.skipIf(!HAVE_CHROMIUM)('personal tools in the web UI', () => {
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  const data = tempDir();
  const music = tempDir('westfall-e2e-music-');

  beforeAll(async () => {
    buildRenderer();
    services = createToolServices(data.dir, { vault: { kdf: { N: 2 ** 10, r: 8, p: 1 } } });
    const plugins = createToolPlugins(services, { heartbeatMs: 1000, agentBackend: scriptedAgent(() => server, () => services) }) as unknown as ServerPlugin[];
    server = await startInProcess({ plugins, load: true, settings: { WESTFALL_DATA_DIR: data.dir } });
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: server.url });
    page = probe.page;
    await login(page, server.loginUrl());
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
    music.cleanup();
  }, T);

  it('finance: adds an account and transactions; the summary and both charts follow', async () => {
    await goTo(page, 'finance', 'Finance');
    await page.getByRole('textbox', { name: 'Account name' }).fill('Checking');
    await page.getByRole('textbox', { name: 'Opening balance' }).fill('1000');
    await page.getByRole('button', { name: 'Add account' }).first().click();
    await page.getByTestId('finance-summary').waitFor();

    const bars = page.locator('[data-testid="chart-category"] rect.bar');
    const add = async (kind: 'Expense' | 'Income', amount: string, category: string, payee: string) => {
      await page.getByRole('radio', { name: kind }).check();
      await page.getByRole('textbox', { name: 'Amount' }).fill(amount);
      await page.getByRole('combobox', { name: 'Category' }).fill(category);
      await page.getByRole('textbox', { name: 'Payee' }).fill(payee);
      await page.locator('form.add').getByRole('button', { name: 'Add', exact: true }).click();
      await page.locator('[data-testid="transactions"]').getByText(payee).waitFor();
    };

    expect(await bars.count()).toBe(0);
    await add('Expense', '45.20', 'Groceries', 'Corner shop');
    await expect.poll(() => page.getByTestId('expenses').textContent()).toContain('45.20');
    await expect.poll(() => bars.count()).toBe(1);
    await screenshot(page, 'finance-one', true);

    await add('Expense', '1200', 'Rent', 'Landlord');
    await add('Income', '3000', 'Salary', 'Employer');
    await expect.poll(() => page.getByTestId('expenses').textContent()).toContain('1,245.20');
    await expect.poll(() => page.getByTestId('income').textContent()).toContain('3,000.00');
    await expect.poll(() => page.getByTestId('net').textContent()).toContain('1,754.80');
    // Spending by category: Rent, then Groceries (income is not spending).
    await expect.poll(() => bars.count()).toBe(2);
    expect(await bars.nth(0).getAttribute('data-label')).toBe('Rent');
    expect(await bars.nth(0).getAttribute('data-value')).toBe('120000');
    expect(await bars.nth(1).getAttribute('data-label')).toBe('Groceries');
    // The bars are drawn to scale.
    const w0 = Number(await bars.nth(0).getAttribute('width'));
    const w1 = Number(await bars.nth(1).getAttribute('width'));
    expect(w1 / w0).toBeCloseTo(4520 / 120000, 2);
    // Spending by month: this month's column holds the 1,245.20.
    const monthBars = page.locator('[data-testid="chart-month"] rect.bar');
    expect(await monthBars.count()).toBe(12);
    expect(await monthBars.last().getAttribute('data-value')).toBe('124520');
    // The balance of the account.
    await page.getByText('$2,754.80').waitFor();
    await screenshot(page, 'finance', true);
  }, T);

  it('time: starts and stops the timer; the entry and the hours per week appear', async () => {
    await goTo(page, 'time', 'Time');
    await page.getByRole('textbox', { name: 'Project name' }).fill('Website');
    await page.getByRole('textbox', { name: 'Client' }).fill('Acme');
    await page.getByRole('button', { name: 'Add project' }).click();
    await page.getByTestId('timer-start').waitFor();
    await page.getByRole('textbox', { name: 'What are you working on?' }).fill('Landing page');
    await page.getByTestId('timer-start').click();
    const clock = page.getByTestId('timer-clock');
    await clock.waitFor();
    await expect.poll(() => clock.textContent(), { timeout: 10_000 }).toMatch(/^0:00:0[1-9]$/);
    await screenshot(page, 'time-running');
    await page.getByTestId('timer-stop').click();
    await page.getByTestId('timer-start').waitFor();
    const entries = page.locator('[data-testid="time-entries"]');
    await entries.getByText('Landing page').waitFor();
    await expect.poll(() => entries.locator('td.num').first().textContent()).toMatch(/^0:00:0[1-9]$/);

    // 2.5 hours by hand today: this week's column shows it.
    await page.getByRole('textbox', { name: 'Hours' }).fill('2.5');
    await page.getByRole('textbox', { name: 'Description' }).fill('Design review');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await entries.getByText('Design review').waitFor();
    const weekBars = page.locator('[data-testid="chart-weeks"] rect.bar');
    expect(await weekBars.count()).toBe(8);
    await expect.poll(async () => Number(await weekBars.last().getAttribute('data-value')), { timeout: 10_000 }).toBeGreaterThan(2.5);
    expect(Number(await weekBars.last().getAttribute('data-value'))).toBeLessThan(2.6);
    await screenshot(page, 'time', true);
  }, T);

  it('vault: creates, locks and unlocks; generates a password and copies it only after confirmation', async () => {
    await goTo(page, 'vault', 'Vault');
    await page.getByLabel('Master password').fill('correct horse battery staple');
    await page.getByLabel('Repeat it').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Create vault' }).click();
    await page.getByRole('button', { name: 'Lock now' }).waitFor();

    await page.getByTestId('generate').click();
    const generated = page.getByTestId('generated');
    await generated.waitFor();
    // Hidden until asked.
    expect(await generated.textContent()).toMatch(/^•+$/);
    await page.getByRole('button', { name: 'Show' }).first().click();
    const password = ((await generated.textContent()) ?? '').trim();
    expect(password).toMatch(/^[^•\s]{20}$/);
    await page.getByRole('button', { name: 'Hide' }).first().click();

    // Copy asks first; cancelling copies nothing.
    await page.evaluate(() => navigator.clipboard.writeText('before'));
    await page.getByTestId('copy-generated').click();
    const dialog = page.getByRole('dialog', { name: 'Copy password' });
    await dialog.waitFor();
    await screenshot(page, 'vault-confirm-copy');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('before');
    await page.getByTestId('copy-generated').click();
    await page.getByRole('dialog', { name: 'Copy password' }).getByRole('button', { name: 'Copy password' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(password);

    // Save it as an entry: listed without the password until Show.
    await page.getByRole('button', { name: 'Use for a new entry' }).click();
    await page.getByRole('textbox', { name: 'Title' }).fill('Bank');
    await page.getByRole('textbox', { name: 'Username' }).fill('me@example.com');
    await page.locator('form.entry').getByRole('button', { name: 'Save' }).click();
    const table = page.getByTestId('vault-entries');
    await table.getByText('Bank').waitFor();
    expect(await table.textContent()).not.toContain(password);
    await screenshot(page, 'vault', true);
    await page.getByRole('button', { name: 'Show password of Bank' }).click();
    await expect.poll(() => page.getByTestId('revealed').textContent()).toBe(password);
    await page.getByRole('button', { name: 'Hide password of Bank' }).click();
    expect(await page.getByTestId('revealed').count()).toBe(0);

    // Lock, a wrong master password, then the right one.
    await page.getByRole('button', { name: 'Lock now' }).click();
    await page.getByRole('button', { name: 'Unlock' }).waitFor();
    await page.getByLabel('Master password').fill('wrong password');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('That is not the master password.').waitFor();
    await page.getByLabel('Master password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await table.getByText('Bank').waitFor();
  }, T);

  it('music: adds a folder, finds the track and plays it from the Range route with the session cookie', async () => {
    writeWav(join(music.dir, 'tone.wav'), { title: 'Test Tone', artist: 'The Oscillators', album: 'Sines' });
    const streamed: number[] = [];
    const sent: Promise<Record<string, string>>[] = [];
    const isStream = (url: string) => /\/api\/music\/tracks\/\d+\/stream/.test(url);
    page.on('response', (r) => {
      if (isStream(r.url())) streamed.push(r.status());
    });
    page.on('request', (r) => {
      if (isStream(r.url())) sent.push(r.allHeaders());
    });
    await goTo(page, 'music', 'Music');
    await page.getByRole('textbox', { name: 'Folder on this computer' }).fill(music.dir);
    await page.getByRole('button', { name: 'Add folder' }).click();
    const tracks = page.getByTestId('tracks');
    await tracks.getByText('Test Tone').waitFor({ timeout: 30_000 });
    await page.getByRole('searchbox', { name: 'Search music' }).fill('oscillators');
    await page.getByRole('button', { name: 'Play Test Tone' }).waitFor();
    await page.getByRole('button', { name: 'Play Test Tone' }).click();
    await expect.poll(() => page.getByTestId('now-playing').textContent()).toBe('Test Tone');
    // The audio element plays: time advances.
    const playing = () =>
      page.evaluate(() => {
        const audio = document.querySelector('wf-app')!.shadowRoot!.querySelector('wf-music-view')!.shadowRoot!.querySelector('wf-player')!.shadowRoot!.querySelector('audio')!;
        return { paused: audio.paused, time: audio.currentTime, error: audio.error?.message ?? null, src: audio.currentSrc };
      });
    await expect.poll(async () => (await playing()).time, { timeout: 20_000 }).toBeGreaterThan(0.3);
    const state = await playing();
    expect(state.error).toBeNull();
    expect(state.src).toMatch(/\/api\/music\/tracks\/\d+\/stream$/); // the route itself: no token in the URL, no blob copy
    // Nothing stands between the element and the backend: the browser's own requests carry the cookie.
    expect(await page.evaluate(() => navigator.serviceWorker.controller === null)).toBe(true);
    expect(streamed.some((s) => s === 200 || s === 206)).toBe(true);
    expect(streamed).not.toContain(401);
    const headers = await Promise.all(sent);
    expect(headers.length).toBeGreaterThan(0);
    for (const h of headers) {
      expect(h.cookie).toMatch(/westfall/i);
      expect(h.authorization).toBeUndefined();
    }
    // Seeking asks for byte ranges; the page's own cookie gets them.
    const range = await page.evaluate(async (src) => {
      const res = await fetch(src, { headers: { range: 'bytes=100-199' } });
      return { status: res.status, contentRange: res.headers.get('content-range'), bytes: (await res.arrayBuffer()).byteLength };
    }, state.src);
    expect(range).toMatchObject({ status: 206, bytes: 100 });
    expect(range.contentRange).toMatch(/^bytes 100-199\/\d+$/);
    await screenshot(page, 'music');
    await page.getByTestId('play-pause').click(); // pause
    await expect.poll(async () => (await playing()).paused).toBe(true);
    const player = (await (await fetch(`${server.url}/api/music/player`, { headers: { authorization: `Bearer ${server.config.apiToken}` } })).json()) as { playing: boolean };
    expect(player.playing).toBe(false);
  }, T);

  it('music: a media service worker left by an earlier version is removed and no longer sits in the way', async () => {
    // The earlier worker, as a browser may still have it registered: it answers the stream route itself
    // (marked, so the test can tell), as the old one did after waiting for a token.
    const legacy = `
      self.addEventListener('install', (e) => e.waitUntil(self.skipWaiting()));
      self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
      self.addEventListener('fetch', (e) => {
        if (!/\\/api\\/music\\/tracks\\/\\d+\\/stream/.test(e.request.url)) return;
        e.respondWith(fetch(e.request).then((r) => new Response(r.body, { status: r.status, headers: [...r.headers, ['x-legacy-worker', '1']] })));
      });`;
    const other = await openPage(browser, { origin: server.url });
    try {
      const serveLegacy = (route: Route) => route.fulfill({ status: 200, contentType: 'text/javascript', headers: { 'cache-control': 'no-cache' }, body: legacy });
      await other.context.route('**/sw.js', serveLegacy);
      await login(other.page, server.loginUrl());
      await other.page.evaluate(async () => {
        await navigator.serviceWorker.register('/sw.js', { scope: '/' });
        await navigator.serviceWorker.ready;
      });
      await expect.poll(() => other.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
      const trackId = (await (await fetch(`${server.url}/api/music/tracks`, { headers: { authorization: `Bearer ${server.config.apiToken}` } })).json()) as { tracks: { id: number }[] };
      const path = `/api/music/tracks/${trackId.tracks[0]!.id}/stream`;
      const viaWorker = () => other.page.evaluate(async (p) => (await fetch(p, { headers: { range: 'bytes=0-9' } })).headers.get('x-legacy-worker'), path);
      expect(await viaWorker()).toBe('1'); // the old worker is in the way

      // Today's /sw.js, and a new page load: the app retires the old worker.
      await other.context.unroute('**/sw.js', serveLegacy);
      await other.page.reload();
      await other.page.locator('nav[aria-label="Main"]').waitFor();
      await expect.poll(() => other.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
      expect(await viaWorker()).toBeNull(); // even this page, which the old worker controlled, goes straight to the backend
    } finally {
      await other.close();
    }
  }, T);

  it('saves plain chats: listed, found by search, reopened, and regenerated in place', async () => {
    await goTo(page, 'chat', /.+/);
    const useTools = page.getByRole('checkbox', { name: 'Use tools' });
    await useTools.waitFor();
    await useTools.uncheck(); // the WebSocket stream and the real model
    const list = page.getByRole('list', { name: 'Conversations' });
    expect(await list.textContent()).not.toContain('kept in this window only');
    await page.getByRole('textbox', { name: 'Message' }).fill('Remember the lighthouse keeper');
    await page.getByRole('button', { name: 'Send message' }).click();
    const reply = page.locator('wf-chat-message[sender="assistant"]').last();
    await expect.poll(() => reply.getAttribute('streaming'), { timeout: 60_000 }).toBeNull();
    await list.getByRole('button', { name: 'Open conversation Remember the lighthouse keeper' }).waitFor();

    // Regenerate: still one conversation with one reply.
    const first = await reply.elementHandle();
    await reply.getByRole('button', { name: 'Regenerate response' }).click();
    await first!.waitForElementState('hidden'); // the old reply is gone
    await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 60_000 }); // reply done and saved
    expect(await page.locator('wf-chat-message[sender="assistant"]').count()).toBe(1);
    await expect.poll(() => list.getByRole('button', { name: /Open conversation Remember the lighthouse/ }).count()).toBe(1);

    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('lighthouse');
    await expect.poll(() => list.getByRole('button', { name: /Open conversation/ }).count()).toBe(1);
    await page.getByRole('button', { name: '+ New chat' }).click();
    expect(await page.locator('wf-chat-message').count()).toBe(0);
    await list.getByRole('button', { name: /Open conversation Remember the lighthouse/ }).click();
    await expect.poll(() => page.locator('wf-chat-message[sender="user"]').count()).toBe(1);
    expect(await page.locator('wf-chat-message[sender="assistant"]').count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('');
    await useTools.check();
    await page.getByRole('button', { name: '+ New chat' }).click();
  }, T);

  it('chat with tools: a tool call that changes data waits for Allow, and Deny declines it', async () => {
    await goTo(page, 'chat', /.+/);
    await page.getByRole('checkbox', { name: 'Use tools' }).waitFor();
    // The agent's event stream must reach a real HTTP client (a POST answered with Server-Sent Events).
    const probeRun = new AbortController();
    const first = await Promise.race([
      fetch(`${server.url}/api/agent/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.config.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'status check', tools: ['vault_status'] }),
        signal: probeRun.signal,
      }).then(async (r) => (await r.body!.getReader().read()).value?.length ?? 0),
      sleep(10_000).then(() => -1),
    ]);
    probeRun.abort();
    expect(
      first,
      'POST /api/agent/chat sent no event within 10 s over real HTTP: openEventStream (src/server/routes/tool-helpers.ts) ' +
        "ends the stream on the request's 'close' event, which Node emits as soon as a POST body has been read",
    ).toBeGreaterThan(0);
    await page.getByRole('textbox', { name: 'Message' }).fill('Please log my coffee, 4.50 at Tool cafe');
    await page.getByRole('button', { name: 'Send message' }).click();
    const card = page.getByTestId('tool-call').last();
    await card.waitFor({ timeout: 30_000 });
    await expect.poll(() => card.getByTestId('tool-status').textContent()).toBe('Needs your confirmation');
    // In plain words, with the account's name and currency (not a function name and JSON).
    const today = new Date().toISOString().slice(0, 10);
    expect(await card.getByTestId('tool-sentence').textContent()).toBe(`Add an expense of 4.5 USD at Tool cafe for Coffee to Checking on ${today}?`);
    expect(await card.getByTestId('tool-title').textContent()).toBe('Add a transaction');
    await screenshot(page, 'chat-tool-confirm');
    await card.getByTestId('tool-confirm').click();
    await expect.poll(() => card.getByTestId('tool-status').textContent(), { timeout: 15_000 }).toBe('Done');
    const reply = page.locator('wf-chat-message[sender="assistant"]').last();
    await expect.poll(() => reply.locator('[data-testid="assistant-text"]').innerText(), { timeout: 15_000 }).toContain('Done: I recorded 4.50');
    expect(await reply.locator('strong').textContent()).toBe('4.50'); // rendered markdown
    await screenshot(page, 'chat-tools');
    // The tool really ran.
    await goTo(page, 'finance', 'Finance');
    await page.locator('[data-testid="finance-summary"]').waitFor();
    await page.evaluate(() => (document.querySelector('wf-app')!.shadowRoot!.querySelector('wf-finance-view') as unknown as { refresh(): Promise<void> }).refresh());
    await page.locator('[data-testid="transactions"]').getByText('Tool cafe').waitFor();

    // Deny: nothing recorded.
    await goTo(page, 'chat', /.+/);
    await page.getByRole('textbox', { name: 'Message' }).fill('Log another coffee please');
    await page.getByRole('button', { name: 'Send message' }).click();
    const second = page.getByTestId('tool-call').last();
    await expect.poll(() => second.getByTestId('tool-status').textContent(), { timeout: 30_000 }).toBe('Needs your confirmation');
    await second.getByTestId('tool-deny').click();
    await expect.poll(() => second.getByTestId('tool-status').textContent(), { timeout: 15_000 }).toBe('Denied');
    await expect.poll(() => page.locator('wf-chat-message[sender="assistant"]').last().locator('[data-testid="assistant-text"]').innerText()).toContain('did not record');
    expect(services.finance.transactions.list({ q: 'Tool cafe' }).total).toBe(1);

    // Saved by the agent, tool calls and results included: reopened, both cards come back as they ended.
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Open conversation Please log my coffee/ }).click();
    await expect.poll(() => page.locator('wf-chat-message[sender="user"]').count()).toBe(2);
    await expect.poll(() => page.getByTestId('tool-call').count()).toBe(2);
    expect(await page.getByTestId('tool-status').nth(0).textContent()).toBe('Done');
    expect(await page.getByTestId('tool-status').nth(1).textContent()).toBe('Denied');
    expect(await page.locator('wf-chat-message[sender="assistant"]').count()).toBe(2);
    await screenshot(page, 'chat-reopened');
  }, T);

  it('chat with tools: a step with two calls shows its text, then both cards in order, then the answer', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('What is my balance? Also log the bakery.');
    await page.getByRole('button', { name: 'Send message' }).click();
    const cards = page.getByTestId('tool-call');
    await expect.poll(() => cards.count(), { timeout: 30_000 }).toBe(2);
    expect(await cards.nth(0).textContent()).toContain('finance_list_accounts');
    expect(await cards.nth(1).textContent()).toContain('finance_add_transaction');
    // The writing call waits for its own confirmation (the agent reports the step's results together, after it).
    await expect.poll(() => cards.nth(1).getByTestId('tool-status').textContent(), { timeout: 15_000 }).toBe('Needs your confirmation');
    // What the step said before its calls sits above them, in a message of its own.
    const messages = page.locator('wf-chat-message[sender="assistant"]');
    await expect.poll(() => messages.first().locator('[data-testid="assistant-text"]').innerText()).toContain('First the accounts');
    await cards.nth(1).getByTestId('tool-confirm').click();
    await expect.poll(() => cards.nth(0).getByTestId('tool-status').textContent(), { timeout: 15_000 }).toBe('Done');
    await expect.poll(() => cards.nth(1).getByTestId('tool-status').textContent(), { timeout: 15_000 }).toBe('Done');
    const reply = messages.last();
    await expect.poll(() => reply.locator('[data-testid="assistant-text"]').innerText(), { timeout: 15_000 }).toContain('bakery is recorded');
    expect(await reply.locator('[data-testid="assistant-text"]').innerText()).not.toContain('First the accounts');
    await screenshot(page, 'chat-tools-parallel');

    // Reopened: the same order.
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Open conversation What is my balance/ }).click();
    await expect.poll(() => page.getByTestId('tool-call').count()).toBe(2);
    expect(await messages.count()).toBe(2);
    expect(await messages.first().locator('[data-testid="assistant-text"]').innerText()).toContain('First the accounts');
    const order = await page.evaluate(() => {
      const log = document.querySelector('wf-app')!.shadowRoot!.querySelector('wf-chat-view')!.shadowRoot!.querySelector('wf-chat-log')!.shadowRoot!.querySelector('.log')!;
      return [...log.children].map((el) => el.tagName.toLowerCase() + (el.getAttribute('sender') ? `:${el.getAttribute('sender')}` : ''));
    });
    expect(order).toEqual(['wf-chat-message:user', 'wf-chat-message:assistant', 'wf-tool-call-card', 'wf-tool-call-card', 'wf-chat-message:assistant']);
  }, T);

  it('chat with tools: a field the user edits before Allow is what is stored, and what the conversation keeps', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Log my lunch please');
    await page.getByRole('button', { name: 'Send message' }).click();
    const card = page.getByTestId('tool-call').last();
    await expect.poll(() => card.getByTestId('tool-status').textContent(), { timeout: 30_000 }).toBe('Needs your confirmation');
    const sentence = card.getByTestId('tool-sentence');
    expect(await sentence.textContent()).toContain('Add an expense of 12.5 USD at Lunch spot for Food to Checking');
    // The account is a select of the user's accounts; the amount and category are edited.
    expect(await card.getByRole('combobox', { name: 'Account id' }).locator('option:checked').textContent()).toBe('Checking');
    await card.getByRole('textbox', { name: 'Amount' }).fill('-13.75');
    await card.getByRole('combobox', { name: 'Category', exact: true }).fill('Meals');
    await expect.poll(() => sentence.textContent()).toContain('Add an expense of 13.75 USD at Lunch spot for Meals to Checking');
    await screenshot(page, 'chat-tool-edit');
    await card.getByTestId('tool-confirm').click();
    await expect.poll(() => card.getByTestId('tool-status').textContent(), { timeout: 15_000 }).toBe('Done');
    await expect.poll(() => page.locator('wf-chat-message[sender="assistant"]').last().locator('[data-testid="assistant-text"]').innerText()).toContain('Lunch recorded');
    const stored = services.finance.transactions.list({ q: 'Lunch spot' });
    expect(stored.total).toBe(1);
    expect(stored.transactions[0]).toMatchObject({ amount: -1375, category: 'Meals' });
    const conv = services.conversations.list().conversations.find((c) => c.title === 'Log my lunch please')!;
    const saved = services.conversations.messages(conv.id).find((m) => m.toolCalls)!;
    expect(saved.toolCalls![0]!.arguments).toMatchObject({ amount: -13.75, category: 'Meals', payee: 'Lunch spot' });
    expect(await card.getByTestId('tool-arguments').textContent()).toContain('Meals');
  }, T);

  it('chat with tools: an empty reply says so, and Retry without tools answers', async () => {
    await goTo(page, 'chat', /.+/);
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Please say nothing at all');
    await page.getByRole('button', { name: 'Send message' }).click();
    const notice = page.getByTestId('empty-reply');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toContain('The model ended without an answer.');
    await screenshot(page, 'chat-empty-reply');
    await notice.getByRole('button', { name: 'Retry without tools' }).click();
    const reply = page.locator('wf-chat-message[sender="assistant"]').last();
    await expect.poll(() => reply.locator('[data-testid="assistant-text"]').innerText(), { timeout: 30_000 }).toContain('Here is an answer without tools.');
    // The first request offered the tools, the retry none.
    expect(emptyAsked[0]).toBeGreaterThan(0);
    expect(emptyAsked.at(-1)).toBe(0);
    await expect.poll(() => page.getByTestId('empty-reply').count()).toBe(0);
    // Saved once: the question and the answer (the empty reply was not kept).
    const conv = services.conversations.list().conversations.find((c) => c.title === 'Please say nothing at all')!;
    expect(services.conversations.messages(conv.id).map((m) => [m.role, m.content])).toEqual([
      ['user', 'Please say nothing at all'],
      ['assistant', 'Here is an answer without tools.'],
    ]);
  }, T);

  it('raised no Content-Security-Policy violation and no script error', () => {
    expect(probe.cspViolations).toEqual([]);
    expect(probe.errors, `HTTP errors: ${probe.httpErrors.join('; ')}`).toEqual([]);
  });
});
