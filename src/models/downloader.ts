// Downloads one model file: resumable (HTTP Range), verified (SHA-256 over the whole file) and atomic
// (written to `dest + '.part'`, renamed to `dest` only once verified).
//
// Resume: an existing `.part` is kept after a cancel or a cut connection. The next attempt hashes what is
// already there, asks for `Range: bytes=N-` and appends. A server that ignores Range (200 instead of 206)
// makes us start again from zero; 416 means the part already holds the whole file (or is longer than the file,
// in which case it is discarded). Within one call, cut connections, network errors and 5xx/408/429 answers are
// retried with Range for as long as attempts keep adding bytes: only `stallLimit` attempts in a row without a
// single new byte end the call with `download_interrupted` (the part stays for a later call). A flaky server
// that cuts every response somewhere therefore never defeats a download. Between attempts we wait an
// exponential backoff (capped, with jitter so that many clients do not retry in step) that starts afresh
// after every attempt that made progress.
//
// Bytes that arrived are never thrown away: the body is read eagerly and written behind it, because a
// WHATWG stream drops the chunks still queued in it when the connection errors, and a slow disk would turn
// a cut shortly after a resume into an attempt that made no progress.
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
  /** Attempts in a row without a single new byte after which the download gives up. Default 5. */
  stallLimit?: number;
  /** First backoff delay; doubles with each attempt in a row that made no progress. Default 500 ms. */
  retryDelayMs?: number;
  /**
   * An attempt that receives nothing for this long (headers or body) is abandoned and retried: a server that
   * keeps the connection open but stops sending would otherwise hang the download. Default 60 s.
   */
  idleTimeoutMs?: number;
  /** Ceiling of the backoff delay. Default 30 s. */
  retryMaxDelayMs?: number;
  /** Uniform [0, 1) source for the jitter (tests pass a seeded one). Default Math.random. */
  random?: () => number;
  /** Called before each automatic retry's wait. */
  onRetry?: (r: RetryInfo) => void;
  /** Minimum interval between progress events. Default 200 ms (the first and the last are always sent). */
  progressIntervalMs?: number;
  headers?: Record<string, string>;
  maxRedirects?: number;
}

export interface RetryInfo {
  /** Automatic retries so far in this call, this one included. */
  retry: number;
  /** Attempts in a row that added no byte (0 when the failed attempt made progress). */
  stalled: number;
  delayMs: number;
  bytesDownloaded: number;
  reason: string;
}

/** Exponential backoff with "equal jitter": between half and all of base·2^k, capped. */
export function backoffDelay(stalled: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(stalled, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Where the expected hash came from; 'none': no hash was known and requireChecksum was off (not verified). */
  hashSource: 'option' | 'x-linked-etag' | 'none';
  /** True when the file was completed from a partial one (Range), in this call or from an earlier run. */
  resumed: boolean;
  /** HTTP requests made (redirect hops not counted). */
  requests: number;
}

export const DEFAULT_DISK_MARGIN_BYTES = 128 * 1024 * 1024;
/** Received bytes allowed to wait for the disk before reading pauses. */
const WRITE_QUEUE_LIMIT = 16 * 1024 * 1024;
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
  const stallLimit = Math.max(1, opts.stallLimit ?? 5);
  const retryDelayMs = opts.retryDelayMs ?? 500;
  const retryMaxDelayMs = opts.retryMaxDelayMs ?? 30_000;
  const random = opts.random ?? Math.random;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
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
  let hashSource: DownloadResult['hashSource'] = opts.sha256 !== undefined ? 'option' : 'none';

  if (signal?.aborted) throw abortedError(await sizeOf(part), null, signal.reason);
  await mkdir(dir, { recursive: true });

  let offset = await sizeOf(part);
  let resumed = false;
  const meter = new ProgressMeter(offset, opts.progressIntervalMs ?? 200, opts.onProgress);
  // Hash of the bytes in the part file, and how many it covers; rebuilt from disk when out of step.
  let hash: Hash | undefined;
  let hashed = 0;
  let requests = 0;
  let stalled = 0;
  let retry = 0;
  let discardedOversizePart = false;
  let restartedForBadRange = false;

  for (;;) {
    let fh: FileHandle | undefined;
    // Writes trail the reads (see the header); the catch waits for them so that `offset` is what is on disk.
    let writing: Promise<void> = Promise.resolve();
    const bytesAtAttemptStart = offset;
    // The request's own signal: the caller's cancel, or the idle timer (which waits only on the network).
    const attempt = new AbortController();
    const forwardAbort = (): void => attempt.abort(signal?.reason);
    signal?.addEventListener('abort', forwardAbort, { once: true });
    if (signal?.aborted) attempt.abort(signal.reason); // aborted before we listened: no event will come
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(
        () => attempt.abort(new RetryableError(`No data from ${url} for ${idleTimeoutMs} ms`)),
        idleTimeoutMs,
      );
    };
    const pauseIdle = (): void => clearTimeout(idleTimer);
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
      armIdle();
      const { res, linkedSha, linkedSize } = await openUrl(fetchImpl, url, headers, attempt.signal, opts.maxRedirects ?? 10);
      pauseIdle();

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
            throw new WestfallError('download_failed', `The server sent a different part of the file than the one asked for (${url})`, {
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
          `No SHA-256 is known for ${url}: give the file's SHA-256 (the server does not publish one)`,
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
        let queued = 0;
        let writeError: unknown;
        const out = fh;
        armIdle();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          armIdle();
          if (writeError !== undefined) throw writeError;
          if (total !== null && position + chunk.byteLength > total) {
            throw new WestfallError('download_failed', `The server sent more than the ${total} bytes it announced`, {
              details: { url, totalBytes: total },
            });
          }
          // The hash runs ahead of the disk by what is queued; a failed write puts them out of step, which the
          // next attempt notices (hashed !== offset) and rehashes the part.
          hash.update(chunk);
          const at = position;
          position += chunk.byteLength;
          hashed = position;
          queued += chunk.byteLength;
          writing = writing.then(async () => {
            let written = 0;
            while (written < chunk.byteLength) {
              const { bytesWritten } = await out.write(chunk, written, chunk.byteLength - written, at + written);
              written += bytesWritten;
            }
            offset = at + chunk.byteLength;
            queued -= chunk.byteLength;
            meter.add(chunk.byteLength);
          });
          writing.catch((e: unknown) => {
            writeError ??= e;
          });
          if (queued >= WRITE_QUEUE_LIMIT) {
            pauseIdle(); // waiting for our disk, not for the server
            await writing;
            armIdle();
          }
        }
        pauseIdle();
        await writing;
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
          `The downloaded file is not the one published (its SHA-256 differs: expected ${expected}, got ${actual}); it was removed`,
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
      await writing.catch(() => {});
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
      // Progress is bytes on disk beyond where this attempt started; a restart from zero that did not get
      // past the old part made none.
      if (offset > bytesAtAttemptStart) stalled = 0;
      else stalled++;
      if (stalled >= stallLimit) {
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
            details: {
              url,
              bytesDownloaded: offset,
              totalBytes: meter.total,
              resumable: true,
              stalledAttempts: stalled,
              ...(status ? { status } : {}),
            },
            cause: err,
          },
        );
      }
      const delayMs = backoffDelay(stalled, retryDelayMs, retryMaxDelayMs, random);
      retry++;
      try {
        opts.onRetry?.({ retry, stalled, delayMs, bytesDownloaded: offset, reason: (err as Error).message });
      } catch {
        // a throwing listener must not break the download
      }
      try {
        await sleep(delayMs, signal);
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
    } finally {
      clearTimeout(idleTimer);
      signal?.removeEventListener('abort', forwardAbort);
    }
  }
}
