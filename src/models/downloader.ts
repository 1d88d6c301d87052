// Downloads one model file: resumable (HTTP Range), verified (SHA-256 over the whole file) and atomic
// (written to `dest + '.part'`, renamed to `dest` only once verified).
//
// Resume: an existing `.part` is kept after a cancel or a cut connection. The next attempt hashes what is
// already there, asks for `Range: bytes=N-` and appends. A server that ignores Range (200 instead of 206)
// makes us start again from zero; 416 means the part already holds the whole file (or is longer than the file,
// in which case it is discarded). Within one call, cut connections and 5xx answers are retried with Range
// (`retries`, counted from the last attempt that made progress); when they run out the error is
// `download_interrupted` and the part stays for a later call.
//
// Hash: `sha256` if given, else the Hugging Face LFS `X-Linked-ETag` header (the file's SHA-256) seen on any hop
// of the redirect chain. With neither, `requireChecksum` (default true) refuses before writing a byte.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, statfs as fsStatfs, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WestfallError, isWestfallError } from '../errors.js';
import type { DownloadProgress } from './types.js';

export interface StatfsLike {
  bavail: number | bigint;
  bsize: number | bigint;
}

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface DownloadModelOptions {
  url: string;
  /** Final path; the download is written to `dest + '.part'` first. */
  dest: string;
  /** Expected SHA-256 (hex). Wins over a hash announced by the server. */
  sha256?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  fetchImpl?: FetchLike;
  /** Free-space probe (default fs.promises.statfs), injectable for tests. */
  statfsImpl?: (path: string) => Promise<StatfsLike>;
  /** Free space that must remain after the download. Default 128 MiB. */
  diskMarginBytes?: number;
  /** Size to assume for the disk check when the server sends no length (e.g. the catalog's size). */
  expectedSize?: number;
  /** Refuse a download whose hash is unknown. Default true. */
  requireChecksum?: boolean;
  /** Automatic resumes after a cut connection or a 5xx, per stretch without progress. Default 3. */
  retries?: number;
  /** Base delay between retries (multiplied by the attempt number). Default 500 ms. */
  retryDelayMs?: number;
  /** Minimum interval between progress events. Default 200 ms (the first and the last are always sent). */
  progressIntervalMs?: number;
  headers?: Record<string, string>;
  maxRedirects?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Where the expected hash came from. */
  hashSource: 'option' | 'x-linked-etag';
  /** True when the file was completed from a partial one (Range), in this call or from an earlier run. */
  resumed: boolean;
  /** HTTP requests made (redirect hops not counted). */
  requests: number;
}

export const DEFAULT_DISK_MARGIN_BYTES = 128 * 1024 * 1024;
const SHA256_RE = /^[0-9a-f]{64}$/;

export const partPathOf = (dest: string): string => `${dest}.part`;

/** The SHA-256 in an `X-Linked-ETag` value (`"abc…"`, `W/"abc…"`), or undefined if it is not one. */
export function parseLinkedEtag(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const v = value
    .trim()
    .replace(/^W\//i, '')
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();
  return SHA256_RE.test(v) ? v : undefined;
}

/** Parses `bytes start-end/total` (total may be `*`) or `bytes *\/total`. */
export function parseContentRange(
  value: string | null,
): { start: number | null; end: number | null; total: number | null } | undefined {
  if (!value) return undefined;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value.trim());
  if (!m) return undefined;
  return {
    start: m[1] !== undefined ? Number(m[1]) : null,
    end: m[2] !== undefined ? Number(m[2]) : null,
    total: m[3] !== undefined && m[3] !== '*' ? Number(m[3]) : null,
  };
}

class ProgressMeter {
  private rate = 0;
  private lastAt: number;
  private lastBytes: number;
  private lastEmit = -Infinity;
  private emittedBytes = -1;
  bytes: number;
  total: number | null = null;

  constructor(
    start: number,
    private readonly intervalMs: number,
    private readonly cb: ((p: DownloadProgress) => void) | undefined,
  ) {
    this.bytes = start;
    this.lastBytes = start;
    this.lastAt = performance.now();
  }

  /** A restart or resume point: the rate sample starts afresh from here. */
  reset(bytes: number): void {
    this.bytes = bytes;
    this.lastBytes = bytes;
    this.lastAt = performance.now();
  }

  add(n: number): void {
    this.bytes += n;
    const now = performance.now();
    const dt = now - this.lastAt;
    if (dt >= 100) {
      const inst = ((this.bytes - this.lastBytes) * 1000) / dt;
      this.rate = this.rate === 0 ? inst : 0.3 * inst + 0.7 * this.rate;
      this.lastAt = now;
      this.lastBytes = this.bytes;
    }
    if (now - this.lastEmit >= this.intervalMs) this.emit();
  }

  snapshot(): DownloadProgress {
    const remaining = this.total === null ? null : Math.max(0, this.total - this.bytes);
    return {
      bytesDownloaded: this.bytes,
      totalBytes: this.total,
      bytesPerSecond: Math.round(this.rate),
      etaSeconds: remaining === null ? null : remaining === 0 ? 0 : this.rate > 0 ? remaining / this.rate : null,
    };
  }

  emit(force = false): void {
    if (!this.cb) return;
    if (!force && this.bytes === this.emittedBytes) return;
    this.lastEmit = performance.now();
    this.emittedBytes = this.bytes;
    try {
      this.cb(this.snapshot());
    } catch {
      // a throwing listener must not break the download
    }
  }
}

/** Marks errors that another attempt (with Range) may get past. */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function abortedError(bytes: number, total: number | null, reason?: unknown): WestfallError {
  return new WestfallError('aborted', 'The download was cancelled; the partial file is kept for a later resume', {
    details: { bytesDownloaded: bytes, totalBytes: total, resumable: bytes > 0 },
    ...(reason !== undefined ? { cause: reason } : {}),
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function hashFile(path: string, hash: Hash, signal?: AbortSignal): Promise<void> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

async function discardBody(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // ignore
  }
}

interface Opened {
  res: Response;
  linkedSha?: string;
  linkedSize?: number;
}

async function openUrl(
  fetchImpl: FetchLike,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  maxRedirects: number,
): Promise<Opened> {
  let current = url;
  let linkedSha: string | undefined;
  let linkedSize: number | undefined;
  for (let hop = 0; ; hop++) {
    const res = await fetchImpl(current, {
      method: 'GET',
      headers,
      redirect: 'manual',
      ...(signal ? { signal } : {}),
    });
    linkedSha ??= parseLinkedEtag(res.headers.get('x-linked-etag'));
    const ls = Number(res.headers.get('x-linked-size') ?? NaN);
    if (linkedSize === undefined && Number.isSafeInteger(ls) && ls >= 0) linkedSize = ls;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
      await discardBody(res);
      if (hop >= maxRedirects) {
        throw new WestfallError('download_failed', `Too many redirects downloading ${url}`, {
          details: { url, status: res.status },
        });
      }
      current = new URL(location, current).toString();
      continue;
    }
    return {
      res,
      ...(linkedSha !== undefined ? { linkedSha } : {}),
      ...(linkedSize !== undefined ? { linkedSize } : {}),
    };
  }
}

async function checkDiskSpace(
  statfsImpl: (path: string) => Promise<StatfsLike>,
  dir: string,
  needed: number,
  margin: number,
  reclaimable: number,
): Promise<void> {
  let available: number;
  try {
    const s = await statfsImpl(dir);
    available = Number(s.bavail) * Number(s.bsize);
  } catch {
    return; // cannot tell (unsupported file system): let the write fail if it must
  }
  const required = needed + margin;
  if (available + reclaimable < required) {
    throw new WestfallError(
      'insufficient_disk_space',
      `Not enough free disk space in ${dir}: ${required} bytes needed (including a ${margin}-byte margin), ` +
        `${available + reclaimable} available`,
      { details: { dir, requiredBytes: required, availableBytes: available + reclaimable, marginBytes: margin } },
    );
  }
}

export async function downloadModel(opts: DownloadModelOptions): Promise<DownloadResult> {
  const fetchImpl: FetchLike = opts.fetchImpl ?? ((u, i) => fetch(u, i));
  const statfsImpl = opts.statfsImpl ?? ((p: string) => fsStatfs(p));
  const margin = opts.diskMarginBytes ?? DEFAULT_DISK_MARGIN_BYTES;
  const retries = opts.retries ?? 3;
  const retryDelayMs = opts.retryDelayMs ?? 500;
  const requireChecksum = opts.requireChecksum ?? true;
  const signal = opts.signal;
  const dest = opts.dest;
  const part = partPathOf(dest);
  const dir = dirname(dest);
  const url = opts.url;

  let expected: string | undefined;
  if (opts.sha256 !== undefined) {
    expected = opts.sha256.trim().toLowerCase();
    if (!SHA256_RE.test(expected)) {
      throw new WestfallError('invalid_params', 'sha256 must be 64 hex digits', {
        details: { fields: [{ path: 'sha256', message: 'must be 64 hex digits' }] },
      });
    }
  }
  let hashSource: DownloadResult['hashSource'] = 'option';

  if (signal?.aborted) throw abortedError(await sizeOf(part), null, signal.reason);
  await mkdir(dir, { recursive: true });

  let offset = await sizeOf(part);
  let resumed = false;
  const meter = new ProgressMeter(offset, opts.progressIntervalMs ?? 200, opts.onProgress);
  // Hash of the bytes in the part file, and how many it covers; rebuilt from disk when out of step.
  let hash: Hash | undefined;
  let hashed = 0;
  let requests = 0;
  let failures = 0;
  let discardedOversizePart = false;
  let restartedForBadRange = false;

  for (;;) {
    let fh: FileHandle | undefined;
    const bytesAtAttemptStart = offset;
    try {
      // Hash what the part already holds before asking for the rest (a large part takes a while to read).
      if (offset > 0 && (!hash || hashed !== offset)) {
        hash = createHash('sha256');
        await hashFile(part, hash, signal);
        hashed = offset;
      }
      const headers: Record<string, string> = { 'accept-encoding': 'identity', ...opts.headers };
      if (offset > 0) headers.range = `bytes=${offset}-`;
      requests++;
      const { res, linkedSha, linkedSize } = await openUrl(fetchImpl, url, headers, signal, opts.maxRedirects ?? 10);

      if (res.status === 404 || res.status === 410) {
        await discardBody(res);
        throw new WestfallError('download_not_found', `Not found: ${url} (HTTP ${res.status})`, {
          details: { url, status: res.status },
        });
      }

      let total: number | null = null;
      let restart = false;
      if (res.status === 416) {
        await discardBody(res);
        const cr = parseContentRange(res.headers.get('content-range'));
        const t = cr?.total ?? linkedSize ?? null;
        if (t !== null && offset === t) {
          total = t; // the part already holds the whole file: go straight to verification
          resumed = true;
          meter.total = total;
        } else if (!discardedOversizePart) {
          // The part is longer than the file (or the server cannot say): it cannot be trusted.
          discardedOversizePart = true;
          await unlink(part).catch(() => {});
          offset = 0;
          hash = undefined;
          hashed = 0;
          meter.reset(0);
          continue;
        } else {
          throw new WestfallError('download_failed', `HTTP 416 downloading ${url}`, { details: { url, status: 416 } });
        }
      } else if (res.status === 206) {
        const cr = parseContentRange(res.headers.get('content-range'));
        if (!cr || cr.start !== offset) {
          // A range we did not ask for: not safe to append. Start over without Range (once).
          await discardBody(res);
          if (offset === 0 || restartedForBadRange) {
            throw new WestfallError('download_failed', `Unusable 206 response (Content-Range ${cr ? `${cr.start}-` : 'missing'}) from ${url}`, {
              details: { url, status: 206 },
            });
          }
          restartedForBadRange = true;
          offset = 0;
          restart = true;
        }
        total = cr?.total ?? linkedSize ?? null;
      } else if (res.status === 200) {
        if (offset > 0) restart = true; // server ignored Range
        const len = Number(res.headers.get('content-length') ?? NaN);
        total = Number.isSafeInteger(len) && len >= 0 ? len : (linkedSize ?? null);
      } else {
        await discardBody(res);
        const msg = `HTTP ${res.status} downloading ${url}`;
        if (res.status >= 500 || res.status === 408 || res.status === 429) throw new RetryableError(msg, res.status);
        throw new WestfallError('download_failed', msg, { details: { url, status: res.status } });
      }

      if (expected === undefined && linkedSha !== undefined) {
        expected = linkedSha;
        hashSource = 'x-linked-etag';
      }
      if (expected === undefined && requireChecksum) {
        await discardBody(res);
        throw new WestfallError(
          'checksum_unavailable',
          `No SHA-256 is known for ${url}: pass sha256 (the server sent no X-Linked-ETag)`,
          { details: { url } },
        );
      }

      if (restart) {
        // Starting over: the 206 with a wrong range was discarded above, so ask again without Range.
        if (res.status === 206) {
          await truncate(part, 0).catch(() => {});
          hash = undefined;
          hashed = 0;
          meter.reset(0);
          continue;
        }
        offset = 0;
      }
      meter.total = total;

      if (res.status !== 416) {
        // Disk check before writing anything. Restarting frees the old part, so it counts as available.
        const needed = total !== null ? total - offset : Math.max(0, (opts.expectedSize ?? 0) - offset);
        const reclaimable = restart ? await sizeOf(part) : 0;
        try {
          await checkDiskSpace(statfsImpl, dir, needed, margin, reclaimable);
        } catch (err) {
          await discardBody(res);
          throw err;
        }

        if (offset === 0) {
          fh = await open(part, 'w');
          resumed = false;
          hash = createHash('sha256');
          hashed = 0;
          meter.reset(0);
        } else {
          fh = await open(part, 'r+');
          resumed = true;
          if (!hash || hashed !== offset) {
            // normally hashed before the request; kept in case the part changed in between
            hash = createHash('sha256');
            await hashFile(part, hash, signal);
            hashed = offset;
          }
          meter.reset(offset);
        }
        meter.emit();

        if (!res.body) throw new RetryableError(`Empty response body from ${url}`);
        let position = offset;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          let written = 0;
          while (written < chunk.byteLength) {
            const { bytesWritten } = await fh.write(chunk, written, chunk.byteLength - written, position + written);
            written += bytesWritten;
          }
          hash.update(chunk);
          position += chunk.byteLength;
          offset = position;
          hashed = position;
          meter.add(chunk.byteLength);
          if (total !== null && position > total) {
            throw new WestfallError('download_failed', `Server sent more than the announced ${total} bytes`, {
              details: { url, totalBytes: total },
            });
          }
        }
        await fh.sync();
        await fh.close();
        fh = undefined;
        if (total !== null && offset < total) {
          throw new RetryableError(`Connection closed after ${offset} of ${total} bytes`);
        }
        total ??= offset;
        meter.total = total;
      }

      // Verify the whole file (resumed part included).
      if (!hash || hashed !== offset) {
        hash = createHash('sha256');
        await hashFile(part, hash, signal);
        hashed = offset;
      }
      const actual = hash.digest('hex');
      hash = undefined;
      if (expected !== undefined && actual !== expected) {
        await unlink(part).catch(() => {});
        throw new WestfallError(
          'checksum_mismatch',
          `SHA-256 mismatch for ${url}: expected ${expected}, got ${actual}; the file was removed`,
          { details: { url, expected, actual, hashSource } },
        );
      }
      await rename(part, dest);
      meter.emit(true);
      return {
        path: dest,
        bytes: offset,
        sha256: actual,
        hashSource,
        resumed,
        requests,
      };
    } catch (err) {
      if (fh) {
        await fh.sync().catch(() => {});
        await fh.close().catch(() => {});
        fh = undefined;
      }
      if (signal?.aborted) {
        meter.emit();
        throw abortedError(offset, meter.total, signal.reason);
      }
      if (isWestfallError(err)) throw err;
      if (offset > bytesAtAttemptStart) failures = 0; // progress was made: the budget starts afresh
      failures++;
      if (failures > retries) {
        meter.emit();
        const status = err instanceof RetryableError ? err.status : undefined;
        if (status !== undefined && offset === 0) {
          throw new WestfallError('download_failed', `HTTP ${status} downloading ${url}`, {
            details: { url, status },
            cause: err,
          });
        }
        throw new WestfallError(
          'download_interrupted',
          `Download of ${url} interrupted after ${offset} bytes: ${(err as Error).message}`,
          {
            details: { url, bytesDownloaded: offset, totalBytes: meter.total, resumable: true, ...(status ? { status } : {}) },
            cause: err,
          },
        );
      }
      try {
        await sleep(retryDelayMs * failures, signal);
      } catch (reason) {
        throw abortedError(offset, meter.total, reason);
      }
      // the part on disk is the truth for the next attempt
      offset = await sizeOf(part);
      if (hashed !== offset) {
        hash = undefined;
        hashed = 0;
      }
      meter.reset(offset);
    }
  }
}
