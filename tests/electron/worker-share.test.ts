// The tray's "Share this computer's memory": a real `westfall worker` child started and stopped from the
// tray of the main process (fake electron module, fake backend).
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerShare } from '../../electron/main/worker-share.js';
import { probeWorker } from '../../src/engine/rpc.js';
import { launch, quitAll } from './app-harness.js';
import { waitFor } from './helpers.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'index.ts');
const workerCommand = { command: process.execPath, args: (flags: string[]) => ['--import', 'tsx', CLI, 'worker', ...flags] };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Whether nothing answers on the port any more. */
async function gone(port: number): Promise<boolean> {
  return probeWorker(`127.0.0.1:${port}`, { timeoutMs: 5000 }).then(
    () => false,
    (e: { code?: string }) => e.code === 'rpc_worker_unreachable',
  );
}

afterEach(async () => {
  await quitAll();
});

describe("Share this computer's memory", () => {
  it('starts a worker from the tray, shows its address, and stops it (and on quit)', async () => {
    const port = await freePort();
    const l = await launch({ worker: workerCommand, workerPort: port });
    const tray = l.fake.trays[0]!;
    expect(tray.item('share')).toMatchObject({ type: 'checkbox', checked: false });
    tray.click('share');
    await waitFor(() => tray.item('share-address')?.label === `Worker at 127.0.0.1:${port}`, 'the worker address in the tray', 120_000);
    expect(tray.item('share')?.checked).toBe(true);
    await expect(probeWorker(`127.0.0.1:${port}`)).resolves.toMatchObject({ version: '7.0.0' });
    expect(l.fake.notifications.some((n) => n.options.title === "Sharing this computer's memory")).toBe(true);

    tray.click('share');
    await waitFor(() => tray.item('share')?.checked === false && !tray.item('share-address'), 'sharing off in the tray');
    await expect.poll(() => gone(port), { timeout: 60_000 }).toBe(true);

    // Started again, then the app quits: the worker goes with it.
    tray.click('share');
    await waitFor(() => tray.item('share-address') !== undefined, 'the worker address again', 120_000);
    await quitAll();
    // Quitting waited for the worker to exit: nothing listens any more.
    expect(await gone(port)).toBe(true);
  }, 600_000); // two worker starts through tsx, each waited for up to 120 s: a busy CI machine needs the room

  it('a port in use ends in a failed state with the reason', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const share = new WorkerShare({ ...workerCommand, port });
      share.start();
      await waitFor(() => share.state === 'failed', 'the failed state', 120_000);
      expect(share.error).toMatch(/port \d+ on 127\.0\.0\.1 is in use/);
    } finally {
      blocker.close();
    }
  }, 300_000);
});
