import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WestfallError } from '../../src/errors.js';
import {
  downloadModel,
  parseContentRange,
  parseLinkedEtag,
  partPathOf,
  type DownloadProgress,
} from '../../src/models/downloader.js';
import { TestFileServer, makeTempDir, sha256Of } from './helpers.js';

let server: TestFileServer;
let dir: string;
let cleanup: () => Promise<void>;
let dest: string;

beforeAll(async () => {
  server = await new TestFileServer().start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  dest = join(dir, 'model.gguf');
  server.reset();
});
afterEach(async () => {
  await cleanup();
});

async function expectCode(p: Promise<unknown>, code: string): Promise<WestfallError> {
  const err = await p.then(
    () => {
      throw new Error(`expected ${code}, but it resolved`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WestfallError);
  expect((err as WestfallError).code).toBe(code);
  return err as WestfallError;
}

describe('downloadModel', () => {
  it('downloads the whole file, verifies its SHA-256 and renames it into place', async () => {
    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256 });
    expect(r).toMatchObject({ path: dest, bytes: server.data.length, sha256: server.sha256, hashSource: 'option' });
    expect(r.resumed).toBe(false);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
    expect(existsSync(partPathOf(dest))).toBe(false);
    expect(server.fileRequests).toHaveLength(1);
    expect(server.fileRequests[0]?.range).toBeUndefined();
  });

  it('follows a Hugging Face-style redirect and verifies against X-Linked-ETag', async () => {
    const r = await downloadModel({ url: server.resolveUrl, dest });
    expect(r.hashSource).toBe('x-linked-etag');
    expect(r.sha256).toBe(server.sha256);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
    expect(server.requests.map((q) => q.status)).toEqual([302, 200]);
  });

  it('a wrong X-Linked-ETag is a checksum mismatch', async () => {
    server.behavior.linkedEtag = 'a'.repeat(64);
    const err = await expectCode(downloadModel({ url: server.resolveUrl, dest }), 'checksum_mismatch');
    expect(err.details).toMatchObject({ expected: 'a'.repeat(64), actual: server.sha256, hashSource: 'x-linked-etag' });
  });

  it('refuses to download without a known hash (checksum_unavailable) before writing anything', async () => {
    await expectCode(downloadModel({ url: server.fileUrl, dest }), 'checksum_unavailable');
    expect(existsSync(partPathOf(dest))).toBe(false);
    expect(existsSync(dest)).toBe(false);
    // allowed when the caller opts out
    const r = await downloadModel({ url: `${server.baseUrl}/resolve/main/nohash.gguf`, dest, requireChecksum: false });
    expect(r.sha256).toBe(server.sha256);
  });

  it('resumes with a Range request after the connection is cut mid-body', async () => {
    const cutAt = 3 * 1024 * 1024 + 123;
    server.behavior.cuts = [cutAt];
    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256, retryDelayMs: 10 });
    expect(r.sha256).toBe(server.sha256);
    expect(r.resumed).toBe(true);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
    const reqs = server.fileRequests;
    expect(reqs).toHaveLength(2);
    expect(reqs[0]?.range).toBeUndefined();
    const m = /^bytes=(\d+)-$/.exec(reqs[1]?.range ?? '');
    expect(m).not.toBeNull();
    const from = Number(m![1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(cutAt);
    expect(reqs[1]?.status).toBe(206);
  });

  it('keeps the part after an interruption with no retries left, and a later call resumes it', async () => {
    // the second response is cut before its first byte: no progress, and one such attempt is the limit here
    server.behavior.cuts = [2 * 1024 * 1024, 0];
    const err = await expectCode(
      downloadModel({ url: server.fileUrl, dest, sha256: server.sha256, stallLimit: 1, retryDelayMs: 1 }),
      'download_interrupted',
    );
    expect(err.details).toMatchObject({ resumable: true });
    const partSize = (await stat(partPathOf(dest))).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(server.data.length);
    expect(existsSync(dest)).toBe(false);

    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256, stallLimit: 1 });
    expect(r.resumed).toBe(true);
    expect(server.fileRequests[2]?.range).toBe(`bytes=${partSize}-`);
    expect(server.fileRequests[2]?.status).toBe(206);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
    expect(existsSync(partPathOf(dest))).toBe(false);
  });

  it('verifies a part that already holds the whole file (416) without downloading again', async () => {
    await writeFile(partPathOf(dest), server.data);
    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256 });
    expect(r.sha256).toBe(server.sha256);
    expect(server.fileRequests.map((q) => q.status)).toEqual([416]);
    expect(existsSync(dest)).toBe(true);
  });

  it('removes the file and reports expected/actual on a hash mismatch', async () => {
    const wrong = 'f'.repeat(64);
    const err = await expectCode(downloadModel({ url: server.fileUrl, dest, sha256: wrong }), 'checksum_mismatch');
    expect(err.details).toMatchObject({ expected: wrong, actual: server.sha256 });
    expect(existsSync(partPathOf(dest))).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });

  it('hashes the resumed part too: a corrupt part fails verification', async () => {
    const corrupt = Buffer.from(server.data.subarray(0, 1024 * 1024));
    corrupt[100] = corrupt[100]! ^ 0xff;
    await writeFile(partPathOf(dest), corrupt);
    const err = await expectCode(downloadModel({ url: server.fileUrl, dest, sha256: server.sha256 }), 'checksum_mismatch');
    expect(server.fileRequests[0]?.range).toBe(`bytes=${corrupt.length}-`);
    expect((err.details as { actual: string }).actual).not.toBe(server.sha256);
    expect(existsSync(partPathOf(dest))).toBe(false);
  });

  it('maps 404 to download_not_found', async () => {
    const err = await expectCode(
      downloadModel({ url: `${server.baseUrl}/missing.gguf`, dest, sha256: server.sha256 }),
      'download_not_found',
    );
    expect(err.details).toMatchObject({ status: 404 });
    expect(existsSync(partPathOf(dest))).toBe(false);
  });

  it('maps other HTTP errors to download_failed with the status', async () => {
    server.behavior.forceStatus = 403;
    const e403 = await expectCode(downloadModel({ url: server.fileUrl, dest, sha256: server.sha256 }), 'download_failed');
    expect(e403.details).toMatchObject({ status: 403 });
    expect(server.fileRequests).toHaveLength(1); // 4xx is not retried

    server.behavior.forceStatus = 500;
    const e500 = await expectCode(
      downloadModel({ url: server.fileUrl, dest, sha256: server.sha256, stallLimit: 2, retryDelayMs: 5 }),
      'download_failed',
    );
    expect(e500.details).toMatchObject({ status: 500 });
    expect(server.fileRequests).toHaveLength(3); // 1 + 2 tries for the 500
  });

  it('cancels through AbortSignal with `aborted` and keeps the part for a later resume', async () => {
    server.behavior.chunkDelayMs = 15;
    const ac = new AbortController();
    const p = downloadModel({
      url: server.fileUrl,
      dest,
      sha256: server.sha256,
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: (pr) => {
        if (pr.bytesDownloaded >= 512 * 1024) ac.abort();
      },
    });
    const err = await expectCode(p, 'aborted');
    expect(err.details).toMatchObject({ resumable: true });
    const partSize = (await stat(partPathOf(dest))).size;
    expect(partSize).toBeGreaterThanOrEqual(512 * 1024);
    expect(existsSync(dest)).toBe(false);

    server.behavior.chunkDelayMs = 0;
    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256 });
    expect(r.resumed).toBe(true);
    expect(server.fileRequests.at(-1)?.range).toBe(`bytes=${partSize}-`);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
  });

  it('an already-aborted signal fails fast without a request', async () => {
    const ac = new AbortController();
    ac.abort();
    await expectCode(downloadModel({ url: server.fileUrl, dest, sha256: server.sha256, signal: ac.signal }), 'aborted');
    expect(server.requests).toHaveLength(0);
  });

  it('restarts from zero when the server ignores Range (200) and still ends correct', async () => {
    // a part of junk: if it were kept, the hash would fail
    await writeFile(partPathOf(dest), Buffer.alloc(1024 * 1024, 0x55));
    server.behavior.ignoreRange = true;
    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256 });
    expect(server.fileRequests).toHaveLength(1);
    expect(server.fileRequests[0]?.range).toBe('bytes=1048576-');
    expect(server.fileRequests[0]?.status).toBe(200);
    expect(r.resumed).toBe(false);
    expect(r.bytes).toBe(server.data.length);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
  });

  it('starts over when a 206 answers a different range than asked (fetchImpl injected)', async () => {
    const half = 1024 * 1024;
    await writeFile(partPathOf(dest), server.data.subarray(0, half));
    const seen: (string | undefined)[] = [];
    let faked = false;
    const fetchImpl = async (input: string | URL, init?: RequestInit): Promise<Response> => {
      const range = (init?.headers as Record<string, string> | undefined)?.range;
      seen.push(range);
      if (range && !faked) {
        faked = true;
        const body = server.data.subarray(0, 1000);
        return new Response(new Uint8Array(body), {
          status: 206,
          headers: { 'content-range': `bytes 0-999/${server.data.length}`, 'content-length': '1000' },
        });
      }
      return fetch(input, init);
    };
    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256, fetchImpl });
    expect(seen).toEqual([`bytes=${half}-`, undefined]);
    expect(r.resumed).toBe(false);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
  });

  it('refuses with insufficient_disk_space before writing a byte', async () => {
    const err = await expectCode(
      downloadModel({
        url: server.fileUrl,
        dest,
        sha256: server.sha256,
        statfsImpl: async () => ({ bavail: 100, bsize: 4096 }),
      }),
      'insufficient_disk_space',
    );
    expect(err.details).toMatchObject({ availableBytes: 409600 });
    expect((err.details as { requiredBytes: number }).requiredBytes).toBeGreaterThan(server.data.length);
    expect(existsSync(partPathOf(dest))).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });

  it('counts the margin and only the remaining bytes of a resumed download', async () => {
    const half = Math.floor(server.data.length / 2);
    await writeFile(partPathOf(dest), server.data.subarray(0, half));
    const remaining = server.data.length - half;
    // exactly enough for the remaining bytes plus the margin
    const margin = 4096;
    const r = await downloadModel({
      url: server.fileUrl,
      dest,
      sha256: server.sha256,
      diskMarginBytes: margin,
      statfsImpl: async () => ({ bavail: BigInt(remaining + margin), bsize: 1n }),
    });
    expect(r.sha256).toBe(server.sha256);
    await expectCode(
      downloadModel({
        url: server.fileUrl,
        dest: join(dir, 'other.gguf'),
        sha256: server.sha256,
        diskMarginBytes: margin,
        statfsImpl: async () => ({ bavail: server.data.length + margin - 1, bsize: 1 }),
      }),
      'insufficient_disk_space',
    );
  });

  it('reports monotonic progress that ends at totalBytes', async () => {
    server.behavior.chunkDelayMs = 2;
    const events: DownloadProgress[] = [];
    await downloadModel({
      url: server.fileUrl,
      dest,
      sha256: server.sha256,
      progressIntervalMs: 20,
      onProgress: (p) => events.push(p),
    });
    expect(events.length).toBeGreaterThan(3);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.bytesDownloaded).toBeGreaterThanOrEqual(events[i - 1]!.bytesDownloaded);
    }
    for (const e of events) {
      expect(e.totalBytes).toBe(server.data.length);
      expect(e.bytesPerSecond).toBeGreaterThanOrEqual(0);
    }
    const last = events.at(-1)!;
    expect(last.bytesDownloaded).toBe(server.data.length);
    expect(last.etaSeconds).toBe(0);
    expect(events.some((e) => e.bytesPerSecond > 0 && e.etaSeconds !== null && e.etaSeconds > 0)).toBe(true);
  });
});

describe('header parsing', () => {
  it('parses X-Linked-ETag values', () => {
    const h = 'ab'.repeat(32);
    expect(parseLinkedEtag(`"${h}"`)).toBe(h);
    expect(parseLinkedEtag(`W/"${h.toUpperCase()}"`)).toBe(h);
    expect(parseLinkedEtag('"d41d8cd98f00b204e9800998ecf8427e"')).toBeUndefined(); // an MD5 is not a SHA-256
    expect(parseLinkedEtag(null)).toBeUndefined();
  });

  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 10-19/100')).toEqual({ start: 10, end: 19, total: 100 });
    expect(parseContentRange('bytes */100')).toEqual({ start: null, end: null, total: 100 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ start: 0, end: 9, total: null });
    expect(parseContentRange('garbage')).toBeUndefined();
  });
});
