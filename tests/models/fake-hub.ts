// A local stand-in for the Hugging Face hub on 127.0.0.1, answering the API shapes the app uses:
//   GET /api/models?search=…&filter=gguf&limit=N      [{ id, downloads, likes, … }]
//   GET /api/models/{owner}/{repo}/tree/main           [{ type, oid, size, path, lfs?: { oid, size, pointerSize } }]
//   GET /api/models/{owner}/{repo}?blobs=true          { id, siblings: [{ rfilename, size, lfs: { sha256, size } }] }
//   GET /{owner}/{repo}/resolve/main/{file}            the bytes, with Range (and, unlike the real hub, no
//                                                     X-Linked-ETag, so the published hash must come from the tree)
// Files either have bytes (served) or only a listed size (for "too big" entries that are never downloaded).
// `holdAt` stops a download at an offset until `release()`, so a test can cancel mid-way without timing.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubFile {
  path: string;
  data?: Buffer;
  /** Listed size when there is no data. */
  size?: number;
  /** Listed SHA-256; default the data's. */
  sha256?: string;
}

export interface FakeHubRepo {
  id: string;
  downloads?: number;
  files: FakeHubFile[];
}

export class FakeHub {
  readonly requests: { url: string; range: string | undefined; status: number }[] = [];
  /** Stop sending file bytes at this offset (the connection stays open) until release(). */
  holdAt: number | undefined;
  /** Answer every API request with this status (the hub is down). */
  apiStatus: number | undefined;
  private server: Server | undefined;
  private waiting: (() => void)[] = [];
  baseUrl = '';

  constructor(readonly repos: FakeHubRepo[]) {}

  static sha256(data: Buffer): string {
    return createHash('sha256').update(data).digest('hex');
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  release(): void {
    this.holdAt = undefined;
    for (const w of this.waiting.splice(0)) w();
  }

  async close(): Promise<void> {
    this.release();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
    this.requests.push({ url: req.url ?? '', range: undefined, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private sizeOf(f: FakeHubFile): number {
    return f.data?.length ?? f.size ?? 0;
  }

  private shaOf(f: FakeHubFile): string {
    return f.sha256 ?? (f.data ? FakeHub.sha256(f.data) : '0'.repeat(64));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    if (path.startsWith('/api/') && this.apiStatus !== undefined) return this.json(req, res, this.apiStatus, { error: 'down' });
    if (path === '/api/models') {
      const q = (url.searchParams.get('search') ?? '').toLowerCase();
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const hits = this.repos.filter((r) => r.id.toLowerCase().includes(q)).slice(0, limit);
      return this.json(req, res, 200, hits.map((r) => ({ _id: r.id, id: r.id, modelId: r.id, likes: 1, downloads: r.downloads ?? 0, tags: ['gguf'], library_name: 'gguf' })));
    }
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(path);
    if (m) {
      const repo = this.repos.find((r) => r.id === m![1]);
      if (!repo) return this.json(req, res, 404, { error: 'Repository not found' });
      const entries = [
        { type: 'file', oid: 'a'.repeat(40), size: 1519, path: '.gitattributes' },
        { type: 'file', oid: 'b'.repeat(40), size: 812, path: 'README.md' },
        { type: 'directory', oid: 'c'.repeat(40), size: 0, path: 'extras' },
        ...repo.files.map((f) => ({
          type: 'file',
          oid: 'd'.repeat(40),
          size: this.sizeOf(f),
          path: f.path,
          lfs: { oid: this.shaOf(f), size: this.sizeOf(f), pointerSize: 135 },
        })),
      ];
      return this.json(req, res, 200, entries);
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)$/.exec(path);
    if (m) {
      const repo = this.repos.find((r) => r.id === m![1]);
      if (!repo) return this.json(req, res, 404, { error: 'Repository not found' });
      return this.json(req, res, 200, {
        id: repo.id,
        siblings: repo.files.map((f) => ({ rfilename: f.path, size: this.sizeOf(f), lfs: { sha256: this.shaOf(f), size: this.sizeOf(f), pointerSize: 135 } })),
      });
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(path);
    const file = m ? this.repos.find((r) => r.id === m![1])?.files.find((f) => f.path === m![2]) : undefined;
    if (!file?.data) {
      this.requests.push({ url: req.url ?? '', range: req.headers.range, status: 404 });
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Entry not found');
      return;
    }
    const data = file.data;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) start = Number(range[1]);
    if (start >= data.length && range) {
      this.requests.push({ url: req.url ?? '', range: req.headers.range, status: 416 });
      res.writeHead(416, { 'content-range': `bytes */${data.length}` });
      res.end();
      return;
    }
    const status = range ? 206 : 200;
    this.requests.push({ url: req.url ?? '', range: req.headers.range, status });
    res.writeHead(status, {
      'content-type': 'application/octet-stream',
      'content-length': String(data.length - start),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    const chunk = 64 * 1024;
    for (let pos = start; pos < data.length; ) {
      if (res.destroyed) return;
      const hold = this.holdAt;
      if (hold !== undefined && pos >= hold) {
        await new Promise<void>((resolve) => {
          this.waiting.push(resolve);
          res.once('close', resolve);
        });
        continue;
      }
      const end = Math.min(data.length, pos + chunk, hold !== undefined && hold > pos ? hold : Infinity);
      if (!res.write(data.subarray(pos, end))) await new Promise((r) => res.once('drain', r));
      pos = end;
    }
    res.end();
  }
}
