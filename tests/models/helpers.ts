// A real HTTP file server on 127.0.0.1 for the downloader tests: Range support, a Hugging Face-style redirect
// carrying X-Linked-ETag, and switches to cut the connection, ignore Range, slow down or fail.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TINY_MODEL_PATH = fileURLToPath(new URL('../../models/tiny-qwen2.gguf', import.meta.url));

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
  status: number;
}

export interface ServerBehavior {
  /** Cut the connection after this many body bytes, for the next request(s) only (consumed in order). */
  cuts: number[];
  /** Answer every request with 200 and the whole file, whatever Range says. */
  ignoreRange: boolean;
  /** Delay between 64 KiB chunks. */
  chunkDelayMs: number;
  /** Answer /file.gguf with this status instead (e.g. 500). */
  forceStatus: number | undefined;
  /** Value of X-Linked-ETag on the /resolve redirect (defaults to the real hash). */
  linkedEtag: string | undefined;
  /** Asked per response (after `cuts` is used up): cut after this many body bytes, or undefined for none. */
  cutPolicy: ((start: number, remaining: number) => number | undefined) | undefined;
  /** Stop sending at this offset of the file and hold the connection open (a stalled server). */
  stallAt: number | undefined;
}

/** A seeded PRNG (mulberry32): the same seed gives the same cut points on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function defaultBehavior(): ServerBehavior {
  return { cuts: [], ignoreRange: false, chunkDelayMs: 0, forceStatus: undefined, linkedEtag: undefined, cutPolicy: undefined, stallAt: undefined };
}

export class TestFileServer {
  readonly data: Buffer;
  readonly sha256: string;
  readonly requests: RecordedRequest[] = [];
  readonly behavior: ServerBehavior = defaultBehavior();
  private server: Server | undefined;
  baseUrl = '';

  /** Back to serving the whole file plainly, with no requests recorded (between tests). */
  reset(): void {
    Object.assign(this.behavior, defaultBehavior());
    this.requests.length = 0;
  }

  constructor(data: Buffer = readFileSync(TINY_MODEL_PATH)) {
    this.data = data;
    this.sha256 = createHash('sha256').update(data).digest('hex');
  }

  get fileUrl(): string {
    return `${this.baseUrl}/file.gguf`;
  }
  /** Like huggingface.co/…/resolve/main/x.gguf: a 302 with X-Linked-ETag and X-Linked-Size. */
  get resolveUrl(): string {
    return `${this.baseUrl}/resolve/main/file.gguf`;
  }

  /** Requests for the file itself (not redirect hops). */
  get fileRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.url === '/file.gguf');
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private record(req: IncomingMessage, status: number): void {
    this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range, status });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (url === '/resolve/main/file.gguf') {
      this.record(req, 302);
      res.writeHead(302, {
        location: '/file.gguf',
        'x-linked-etag': `"${this.behavior.linkedEtag ?? this.sha256}"`,
        'x-linked-size': String(this.data.length),
        'content-length': '0',
      });
      res.end();
      return;
    }
    if (url === '/resolve/main/nohash.gguf') {
      this.record(req, 302);
      res.writeHead(302, { location: '/file.gguf', 'content-length': '0' });
      res.end();
      return;
    }
    if (url !== '/file.gguf') {
      this.record(req, 404);
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    if (this.behavior.forceStatus !== undefined) {
      this.record(req, this.behavior.forceStatus);
      res.writeHead(this.behavior.forceStatus, { 'content-type': 'text/plain' });
      res.end('nope');
      return;
    }

    const size = this.data.length;
    let start = 0;
    let status = 200;
    const range = req.headers.range;
    if (range && !this.behavior.ignoreRange) {
      const m = /^bytes=(\d+)-$/.exec(range);
      if (m) {
        start = Number(m[1]);
        if (start >= size) {
          this.record(req, 416);
          res.writeHead(416, { 'content-range': `bytes */${size}` });
          res.end();
          return;
        }
        status = 206;
      }
    }
    this.record(req, status);
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(size - start),
      'accept-ranges': 'bytes',
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(status, headers);

    const cut = this.behavior.cuts.length > 0 ? this.behavior.cuts.shift() : this.behavior.cutPolicy?.(start, size - start);
    const chunk = 64 * 1024;
    let sent = 0;
    for (let pos = start; pos < size; pos += chunk) {
      if (res.destroyed) return;
      const stallAt = this.behavior.stallAt;
      if (stallAt !== undefined && pos + chunk > stallAt) {
        if (stallAt > pos) await new Promise<void>((resolve) => res.write(this.data.subarray(pos, stallAt), () => resolve()));
        return; // headers and maybe some bytes sent; nothing more until close() or the client gives up
      }
      let slice = this.data.subarray(pos, Math.min(size, pos + chunk));
      if (cut !== undefined && sent + slice.length >= cut) {
        slice = slice.subarray(0, cut - sent);
        await new Promise<void>((resolve) => res.write(slice, () => resolve()));
        await new Promise((r) => setTimeout(r, 20));
        res.socket?.destroy();
        return;
      }
      sent += slice.length;
      if (!res.write(slice)) await new Promise((r) => res.once('drain', r));
      if (this.behavior.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, this.behavior.chunkDelayMs));
    }
    res.end();
  }
}

export async function makeTempDir(prefix = 'westfall-models-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const sha256Of = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex');
