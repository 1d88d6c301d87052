// The chat's daily features in Chromium, against the in-process backend with the tiny synthetic model and
// the conversations routes (plain WebSocket stream, tools off):
// - regenerate keeps the old reply: "2/2" under the new one, the arrows switch, the saved tree has both;
// - edit and resend saves the question next to the original; the arrows switch between the two branches
//   and the next request is sent only the branch shown;
// - copy puts a message on the clipboard; a chat is renamed in place in the list;
// - export downloads Markdown and JSON; importing the JSON restores the chat (every branch); a bad file is
//   refused with a clear message and adds nothing;
// - the Precise preset and a seed reach the engine (the job the server hands the model manager) and are
//   saved with the reply; the context meter shows the tokens used and grows with the chat.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatJob } from '../../src/server/model-manager.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import { HAVE_CHROMIUM, TOKEN, buildRenderer, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 240_000;
const WAIT = 90_000;
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface SavedMessage {
  id: number;
  role: string;
  content: string;
  parentId: number | null;
  siblings: number[];
  meta?: { params?: Record<string, unknown> };
}
interface Saved {
  id: string;
  title: string;
  messageCount: number;
  settings: { preset: string; sampling: Record<string, unknown> } | null;
  messages: SavedMessage[];
}

describe.skipIf(!HAVE_CHROMIUM)('chat: branches, settings, export and import, the context meter', () => {
  const data = tempDir();
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  /** Every chat job the server handed the model manager (what reaches the engine). */
  const jobs: ChatJob[] = [];

  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${server.url}${path}`, { headers: AUTH })).json()) as T;
  const conversations = async () => (await get<{ conversations: { id: string; title: string }[]; total: number }>('/api/conversations?limit=100'));
  const conversation = (id: string) => get<Saved>(`/api/conversations/${id}`);
  const idOf = async (title: string) => (await conversations()).conversations.find((c) => c.title === title)?.id;

  const list = () => page.getByRole('list', { name: 'Conversations' });
  const assistant = () => page.locator('wf-chat-message[sender="assistant"]');
  const user = () => page.locator('wf-chat-message[sender="user"]');
  const text = async (m: ReturnType<Page['locator']>) => ((await m.getByTestId('assistant-text').textContent()) ?? '').trim();
  const composerFree = () => page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: WAIT });
  const used = async () => Number(((await page.getByTestId('context-used').textContent()) ?? '').split('/')[0]!.replace(/[^\d]/g, ''));

  async function ask(question: string): Promise<void> {
    await page.getByRole('textbox', { name: 'Message' }).fill(question);
    await page.getByRole('button', { name: 'Send message' }).click();
    await composerFree(); // the reply ended and was saved
  }

  beforeAll(async () => {
    buildRenderer();
    services = createToolServices(data.dir, { vault: { kdf: { N: 2 ** 10, r: 8, p: 1 } } });
    const plugins = createToolPlugins(services, { heartbeatMs: 1000 }) as unknown as ServerPlugin[];
    server = await startInProcess({ plugins, load: true, settings: { WESTFALL_DATA_DIR: data.dir } });
    const chat = server.manager.chat.bind(server.manager);
    server.manager.chat = (job: ChatJob) => {
      jobs.push(job);
      return chat(job);
    };
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: server.url });
    // Short replies: the app's defaults (Settings → Chat) give new chats 40 tokens.
    await probe.context.addInitScript(() => {
      if (!localStorage.getItem('westfall.chat')) localStorage.setItem('westfall.chat', JSON.stringify({ useTools: false, maxTokens: 40 }));
    });
    page = probe.page;
    await login(page, server.loginUrl());
    await page.locator('[data-nav="chat"]').click();
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
  }, T);

  it('regenerate and edit keep every version; the arrows switch; the model is sent the branch shown; the meter grows', async () => {
    await ask('Name a colour');
    await expect.poll(used, { timeout: WAIT }).toBeGreaterThan(0);
    const afterOne = await used();
    const id = (await idOf('Name a colour'))!;
    const first = await text(assistant().last());
    const firstSaved = (await conversation(id)).messages[1]!.content;

    // Regenerate: a second reply, the first one kept.
    await assistant().last().getByRole('button', { name: 'Regenerate response' }).click();
    await composerFree();
    await expect.poll(async () => (await conversation(id)).messages.at(-1)?.siblings.length).toBe(2);
    await expect.poll(() => assistant().last().getByTestId('branch-position').textContent()).toBe('2/2');
    const saved = await conversation(id);
    expect(saved.messageCount).toBe(3);
    const second = saved.messages[1]!.content;
    await assistant().last().getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => assistant().last().getByTestId('branch-position').textContent()).toBe('1/2');
    expect(await text(assistant().last())).toBe(first);
    expect((await conversation(id)).messages[1]!.content).toBe(firstSaved); // the branch shown is saved as shown
    await assistant().last().getByRole('button', { name: 'Next version' }).click();
    await expect.poll(() => assistant().last().getByTestId('branch-position').textContent()).toBe('2/2');
    expect(second.length).toBeGreaterThan(0);

    // A follow-up: the meter grows.
    await ask('And another one?');
    await expect.poll(used, { timeout: WAIT }).toBeGreaterThan(afterOne);

    // Edit the first question: a new branch from the start; the original stays one arrow away.
    await user().first().getByRole('button', { name: 'Edit message' }).click();
    const box = user().first().getByRole('textbox', { name: 'Edit your message' });
    await box.fill('Name a fruit');
    const before = jobs.length;
    await user().first().getByRole('button', { name: 'Save and send' }).click();
    await composerFree();
    expect(await user().count()).toBe(1);
    await expect.poll(() => user().first().getByTestId('branch-position').textContent()).toBe('2/2');
    // What reached the engine for the edited question: only the new branch.
    const sent = jobs.slice(before).at(-1)!.messages.map((m) => m.content);
    expect(sent).toContain('Name a fruit');
    expect(sent).not.toContain('Name a colour');
    expect(sent).not.toContain('And another one?');
    await screenshot(page, 'chat-branches');

    await user().first().getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => user().first().locator('.user-text').textContent()).toBe('Name a colour');
    // The original branch comes back whole, down to its newest message.
    await expect.poll(() => user().count()).toBe(2);
    expect(await user().last().locator('.user-text').textContent()).toBe('And another one?');
    expect((await conversation(id)).messages.map((m) => m.content)[0]).toBe('Name a colour');
    expect(probe.errors).toEqual([]);
  }, T);

  it('copy, rename in place, export Markdown and JSON, import restores it, a bad file is refused', async () => {
    await assistant().last().getByRole('button', { name: 'Copy message' }).click();
    const shownId = (await idOf('Name a colour'))!;
    const reply = (await conversation(shownId)).messages.at(-1)!; // the message's own text (Markdown), as saved
    expect(reply.role).toBe('assistant');
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(reply.content);

    const entry = list().getByRole('button', { name: 'Open conversation Name a colour' });
    await entry.hover();
    await list().getByRole('button', { name: 'Rename conversation Name a colour' }).click();
    const input = list().getByRole('textbox', { name: 'New name for Name a colour' });
    await input.fill('Colours and fruit');
    await input.press('Enter');
    await list().getByRole('button', { name: 'Open conversation Colours and fruit' }).waitFor();
    const id = (await idOf('Colours and fruit'))!;
    expect((await conversation(id)).title).toBe('Colours and fruit');
    await expect.poll(() => page.locator('wf-chat-header h1').textContent()).toBe('Colours and fruit');

    const download = async (label: RegExp) => {
      await page.locator('wf-chat-header summary', { hasText: 'Export' }).click();
      const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: label }).click()]);
      return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, 'utf8') };
    };
    const md = await download(/^Markdown$/);
    expect(md.name).toBe('Colours-and-fruit.md');
    expect(md.text).toContain('# Colours and fruit');
    expect(md.text).toContain('## You\n\nName a colour');
    expect(md.text).toContain('on other branches are not shown');
    const json = await download(/^JSON/);
    expect(json.name).toBe('Colours-and-fruit.json');
    const file = JSON.parse(json.text) as { conversation: { messages: unknown[] } };
    const all = (await conversation(id)).messageCount;
    expect(file.conversation.messages).toHaveLength(all);

    // A bad file: a clear message, nothing added.
    const count = (await conversations()).total;
    await page.getByTestId('import-chat').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": "world"}') });
    await page.getByText('Could not import the chat: this file is not a Westfall conversation export (its "format" is not "westfall.conversation")').waitFor();
    await page.getByTestId('import-chat').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('not json at all') });
    await page.getByText(/Could not import the chat: the file is not JSON/).waitFor();
    expect((await conversations()).total).toBe(count);

    // The export imports as a new chat with every branch; the view opens it.
    await page.getByTestId('import-chat').setInputFiles({ name: json.name, mimeType: 'application/json', buffer: Buffer.from(json.text) });
    await page.getByText('Imported "Colours and fruit".').waitFor();
    await expect.poll(async () => (await conversations()).total).toBe(count + 1);
    const copies = (await conversations()).conversations.filter((c) => c.title === 'Colours and fruit');
    expect(copies).toHaveLength(2);
    const imported = await conversation(copies.find((c) => c.id !== id)!.id);
    expect(imported.messageCount).toBe(all);
    expect(imported.messages.map((m) => m.content)).toEqual((await conversation(id)).messages.map((m) => m.content));
    await expect.poll(() => user().count()).toBe(imported.messages.filter((m) => m.role === 'user').length);
    await screenshot(page, 'chat-imported');
    expect(probe.errors).toEqual([]);
  }, T);

  it('a preset and a seed reach the engine and are saved with the chat and the reply', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('button', { name: 'Chat settings' }).click();
    const panel = page.locator('wf-chat-settings-panel');
    await panel.getByRole('button', { name: 'Precise' }).click();
    await expect.poll(() => panel.getByRole('button', { name: 'Precise' }).getAttribute('aria-pressed')).toBe('true');
    await panel.getByLabel('Seed').fill('4242');
    await panel.getByLabel('Seed').press('Tab');
    await panel.getByLabel('Max tokens').fill('24');
    await panel.getByLabel('Max tokens').press('Tab');
    await expect.poll(() => panel.getByRole('button', { name: 'Custom' }).getAttribute('aria-pressed')).toBe('true');
    await panel.getByLabel('System prompt (this chat)').fill('Answer in one word.');
    await panel.getByLabel('System prompt (this chat)').press('Tab');
    await screenshot(page, 'chat-settings');

    const before = jobs.length;
    await ask('Pick a number');
    const job = jobs.slice(before).at(-1)!;
    expect(job.params).toMatchObject({ temperature: 0.2, topP: 0.9, topK: 20, minP: 0.05, repeatPenalty: 1.1, maxTokens: 24, seed: 4242 });
    expect(job.messages[0]).toEqual({ role: 'system', content: 'Answer in one word.' });
    const id = (await idOf('Pick a number'))!;
    const saved = await conversation(id);
    expect(saved.settings).toMatchObject({ preset: 'custom', systemPrompt: 'Answer in one word.', sampling: { temperature: 0.2, seed: 4242, maxTokens: 24 } });
    expect(saved.messages[1]!.meta?.params).toMatchObject({ temperature: 0.2, seed: 4242, maxTokens: 24 });

    // Creative for this chat: another temperature reaches the engine; the seed stays.
    await page.locator('wf-chat-settings-panel').getByRole('button', { name: 'Creative' }).click();
    await expect.poll(async () => (await conversation(id)).settings?.preset).toBe('creative');
    await panel.getByLabel('Max tokens').fill('24'); // Creative's 2048 would only make the test slower
    await panel.getByLabel('Max tokens').press('Tab');
    await expect.poll(async () => (await conversation(id)).settings?.sampling.maxTokens).toBe(24);
    const n = jobs.length;
    await ask('Another');
    expect(jobs.slice(n).at(-1)!.params).toMatchObject({ temperature: 1.1, seed: 4242 });

    // Another chat keeps the app's defaults.
    await page.getByRole('button', { name: '+ New chat' }).click();
    const m = jobs.length;
    await ask('Defaults please');
    expect(jobs.slice(m).at(-1)!.params).toMatchObject({ temperature: 0.7, maxTokens: 40 });
    expect(jobs.slice(m).at(-1)!.params?.seed).toBeUndefined();
    expect(probe.errors).toEqual([]);
    expect(probe.cspViolations).toEqual([]);
  }, T);

  it('when the chat outgrows its window, the meter says the oldest messages are left out, and the reply says it did not see them', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    const panel = page.locator('wf-chat-settings-panel');
    if (!(await panel.isVisible())) await page.getByRole('button', { name: 'Chat settings' }).click();
    await panel.getByLabel('Max tokens').fill('16');
    await panel.getByLabel('Max tokens').press('Tab');
    await panel.getByLabel('Context (tokens)').fill('96');
    await panel.getByLabel('Context (tokens)').press('Tab');
    await ask('First question about the harbour and its boats');
    await expect.poll(() => page.getByTestId('context-used').textContent(), { timeout: WAIT }).toMatch(/\/ 96 tokens/);
    // Turns until the branch no longer fits: the meter says so before the next question is sent.
    for (let i = 0; i < 8 && (await page.getByTestId('context-full').count()) === 0; i++) {
      await ask(`Question ${i} about the lighthouse, the pier and the fishing boats`);
      await expect.poll(used, { timeout: WAIT }).toBeGreaterThan(0);
    }
    await page.getByTestId('context-full').waitFor();
    expect(await page.getByTestId('context-full').textContent()).toMatch(/Full: the model will not see the \d+ oldest messages?/);
    const before = jobs.length;
    await ask('And the last one?');
    const job = jobs.slice(before).at(-1)!;
    // What reached the engine: the system prompt and the last question, without the first question.
    expect(job.messages[0]!.role).toBe('system');
    expect(job.messages.at(-1)!.content).toBe('And the last one?');
    expect(job.messages.map((m) => m.content)).not.toContain('First question about the harbour and its boats');
    await expect.poll(() => assistant().last().getByTestId('dropped-note').textContent()).toMatch(/The model did not see the \d+ oldest messages?/);
    // The conversation itself keeps every message.
    const id = (await idOf('First question about the harbour and its boats'))!;
    expect((await conversation(id)).messages[0]!.content).toBe('First question about the harbour and its boats');
    await screenshot(page, 'chat-context-full');
    expect(probe.errors).toEqual([]);
  }, T);
});
