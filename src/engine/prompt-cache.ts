// Conversation state on disk: after a reply, a sequence's KV cache (and the tokens it holds) is written
// to a file, so that the next message of that conversation after a restart or a model switch loads it and
// evaluates only what is new, instead of reading the whole history again (13 s for 3,600 tokens on a small
// CPU model). Entries are keyed by the token prefix itself, so the app's own chats and any /v1 client
// that resends its history both match, plus a scope (model file identity and context settings): a state
// is only ever loaded into the same model and cache layout. A file that is missing, stale, from another
// scope or corrupt (CRC-32 over the whole file) is ignored and removed, never loaded.
//
// File layout: "WFKV" | u32 version | u32 header length | header JSON | i32 tokens | state bytes | u32 crc
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import zlib from 'node:zlib';
import { WestfallError } from '../errors.js';

const MAGIC = 0x564b4657; // "WFKV" read as little-endian u32
const VERSION = 1;
const SUFFIX = '.wfkv';
const LIMIT_FILE = 'limit.json';
// Checksums are computed in slices with the event loop let through between them: one 40 MB state would
// otherwise hold the server's JavaScript thread for tens of milliseconds.
const SLICE = 4 << 20;
/** The largest read buffer kept between loads. */
const KEEP_SPARE_BYTES = 256 << 20;

export interface PromptCacheOptions {
  /** Folder for the state files (created if needed). */
  dir: string;
  /** All files together stay under this; the least recently used go first. */
  maxBytes: number;
  /** Sequences holding fewer tokens are not saved: evaluating them again is cheap. */
  minTokens?: number;
  /** Called for files that were found bad and removed, and for write failures (logging). */
  onProblem?: (message: string, err?: unknown) => void;
}

export interface PromptCacheEntry {
  file: string;
  scope: string;
  tokens: Int32Array;
  bytes: number;
  /** ms since epoch: saved or last loaded. */
  lastUsed: number;
  /** Who owns it (a conversation id), so that deleting the conversation removes its state. */
  tag: string | null;
}

export interface PromptCacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  /** Prompt tokens that came from a loaded state instead of being evaluated. */
  restoredTokens: number;
  saves: number;
  saveFailures: number;
  /** Files found bad (corrupt, truncated, unreadable) and removed. */
  removedBad: number;
  evictions: number;
  /** Total time reading and checking loaded states, ms. */
  loadMs: number;
}

interface Header {
  scope: string;
  tokens: number;
  dataBytes: number;
  tag: string | null;
  savedAt: number;
}

function crc(buffers: readonly Uint8Array[]): Promise<number> {
  return (async () => {
    let value = 0;
    for (const b of buffers) {
      for (let off = 0; off < b.length; off += SLICE) {
        value = zlib.crc32(b.subarray(off, Math.min(b.length, off + SLICE)), value);
        if (b.length > SLICE) await yieldToLoop();
      }
    }
    return value;
  })();
}

// One read into a buffer of the file's size: readFile reads a large file in 512 KiB pieces, each a round
// trip to the thread pool (126 ms for a 36 MB state, against a few ms for the disk cache's copy). Into
// `spare` when it is large enough: a fresh 36 MB buffer cost ~110 ms of page faults to read into and
// ~50 ms more to checksum on this VM, the same bytes in a buffer already used 3 ms and 9 ms.
async function readWhole(file: string, spare: Buffer | null): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = spare && spare.length >= size ? spare.subarray(0, size) : Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) throw new Error('the file is shorter than it was');
      at += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

function commonPrefix(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class PromptCache {
  readonly dir: string;
  maxBytes: number;
  readonly minTokens: number;
  #entries = new Map<string, PromptCacheEntry>();
  #opened: Promise<void> | null = null;
  #queue: Promise<void> = Promise.resolve();
  #onProblem: (message: string, err?: unknown) => void;
  #spare: Buffer | null = null;
  #stats = { hits: 0, misses: 0, restoredTokens: 0, saves: 0, saveFailures: 0, removedBad: 0, evictions: 0, loadMs: 0 };

  constructor(options: PromptCacheOptions) {
    if (!options.dir) throw new WestfallError('invalid_params', 'the prompt cache needs a folder');
    if (!Number.isFinite(options.maxBytes) || options.maxBytes < 0) throw new WestfallError('invalid_params', 'maxBytes must be a number of bytes, 0 or more');
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.minTokens = options.minTokens ?? 128;
    this.#onProblem = options.onProblem ?? (() => {});
  }

  /** Reads the folder's index (headers and tokens only). Safe to call again; later calls wait for the first. */
  open(): Promise<void> {
    this.#opened ??= this.#scan();
    return this.#opened;
  }

  async #scan(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // A cap the user chose in Settings outlives restarts; the configured one is the default.
    try {
      const saved = JSON.parse(await readFile(path.join(this.dir, LIMIT_FILE), 'utf8')) as { maxBytes?: unknown };
      if (typeof saved.maxBytes === 'number' && Number.isFinite(saved.maxBytes) && saved.maxBytes >= 0) this.maxBytes = saved.maxBytes;
    } catch {
      // none chosen, or unreadable: the configured cap applies
    }
    for (const name of await readdir(this.dir)) {
      const file = path.join(this.dir, name);
      if (name.endsWith('.tmp')) {
        await rm(file, { force: true }); // a save cut short by a crash or a full disk
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      try {
        const entry = await this.#readIndex(file);
        this.#entries.set(file, entry);
      } catch (err) {
        await this.#removeBad(file, `unreadable saved state ${name}`, err);
      }
    }
    await this.#evict();
  }

  async #readIndex(file: string): Promise<PromptCacheEntry> {
    const fh = await open(file, 'r');
    try {
      const st = await fh.stat();
      const head = Buffer.alloc(12);
      if ((await fh.read(head, 0, 12, 0)).bytesRead !== 12) throw new Error('truncated');
      if (head.readUInt32LE(0) !== MAGIC || head.readUInt32LE(4) !== VERSION) throw new Error('not a saved state of this version');
      const headerLen = head.readUInt32LE(8);
      if (headerLen > 64 * 1024) throw new Error('header too long');
      const hb = Buffer.alloc(headerLen);
      if ((await fh.read(hb, 0, headerLen, 12)).bytesRead !== headerLen) throw new Error('truncated');
      const header = JSON.parse(hb.toString('utf8')) as Header;
      if (typeof header.scope !== 'string' || !Number.isInteger(header.tokens) || !Number.isInteger(header.dataBytes)) throw new Error('bad header');
      if (12 + headerLen + header.tokens * 4 + header.dataBytes + 4 !== st.size) throw new Error('size does not match its header');
      const tb = Buffer.alloc(header.tokens * 4);
      if ((await fh.read(tb, 0, tb.length, 12 + headerLen)).bytesRead !== tb.length) throw new Error('truncated');
      const tokens = new Int32Array(tb.buffer, tb.byteOffset, header.tokens).slice();
      return { file, scope: header.scope, tokens, bytes: st.size, lastUsed: st.mtimeMs, tag: header.tag ?? null };
    } finally {
      await fh.close();
    }
  }

  async #removeBad(file: string, message: string, err?: unknown): Promise<void> {
    this.#entries.delete(file);
    this.#stats.removedBad++;
    this.#onProblem(message, err);
    await rm(file, { force: true }).catch(() => {});
  }

  /** The largest saved state of `scope`, in bytes (0 when none). */
  largestBytes(scope: string): number {
    let max = 0;
    for (const e of this.#entries.values()) if (e.scope === scope) max = Math.max(max, e.bytes);
    return max;
  }

  /**
   * Prepares the read buffer for a state of `bytes` ahead of time, its pages touched: the first load after
   * a start then reads into memory the process already holds (see readWhole).
   */
  warm(bytes: number): void {
    if (bytes < 1 << 20 || bytes > KEEP_SPARE_BYTES || (this.#spare && this.#spare.length >= bytes)) return;
    this.#spare = Buffer.allocUnsafe(bytes).fill(0); // written, not just zero pages mapped on demand
  }

  /** The tokens each saved state of `scope` holds. */
  tokensOf(scope: string): Int32Array[] {
    const out: Int32Array[] = [];
    for (const e of this.#entries.values()) if (e.scope === scope) out.push(e.tokens);
    return out;
  }

  /** The entry of `scope` sharing the longest prefix with `prompt`, and how many tokens it shares. */
  best(scope: string, prompt: Int32Array): { entry: PromptCacheEntry; shared: number } | null {
    let best: { entry: PromptCacheEntry; shared: number } | null = null;
    for (const e of this.#entries.values()) {
      if (e.scope !== scope) continue;
      const shared = commonPrefix(e.tokens, prompt);
      if (shared > 0 && (!best || shared > best.shared)) best = { entry: e, shared };
    }
    return best;
  }

  /**
   * Reads and checks an entry's state. A bad file is removed and null returned: the caller evaluates the
   * prompt instead, so a damaged cache can only cost time.
   * `release()` hands the buffer back for the next load once `data` has been copied (the native side copies
   * it when the generation is submitted); without it the buffer is simply collected.
   */
  async load(entry: PromptCacheEntry): Promise<{ tokens: Int32Array; data: Buffer; release: () => void } | null> {
    const started = performance.now();
    let buf: Buffer;
    const spare = this.#spare;
    this.#spare = null; // two loads at once must not share it
    try {
      buf = await readWhole(entry.file, spare);
    } catch (err) {
      await this.#removeBad(entry.file, `saved state ${path.basename(entry.file)} could not be read`, err);
      return null;
    }
    try {
      if (buf.length < 16 || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== VERSION) throw new Error('not a saved state of this version');
      const headerLen = buf.readUInt32LE(8);
      const header = JSON.parse(buf.subarray(12, 12 + headerLen).toString('utf8')) as Header;
      const tokensAt = 12 + headerLen;
      const dataAt = tokensAt + header.tokens * 4;
      if (header.scope !== entry.scope || dataAt + header.dataBytes + 4 !== buf.length) throw new Error('the file changed since it was indexed');
      const stored = buf.readUInt32LE(buf.length - 4);
      if ((await crc([buf.subarray(0, buf.length - 4)])) !== stored) throw new Error('checksum mismatch');
      const tokens = new Int32Array(header.tokens);
      Buffer.from(tokens.buffer).set(buf.subarray(tokensAt, dataAt));
      entry.lastUsed = Date.now();
      const at = new Date(entry.lastUsed);
      await utimes(entry.file, at, at).catch(() => {});
      this.#stats.loadMs += performance.now() - started;
      const whole = Buffer.from(buf.buffer, 0, buf.buffer.byteLength);
      const release = () => {
        // At least 1 MiB: a small Buffer may be a slice of Node's shared pool, which is not ours to reuse.
        if (whole.length >= 1 << 20 && whole.length <= KEEP_SPARE_BYTES && (!this.#spare || this.#spare.length < whole.length)) this.#spare = whole;
      };
      return { tokens, data: buf.subarray(dataAt, dataAt + header.dataBytes), release };
    } catch (err) {
      await this.#removeBad(entry.file, `saved state ${path.basename(entry.file)} is damaged and was removed`, err);
      return null;
    }
  }

  /** Counts a lookup's outcome (the context knows whether the load was used). */
  recordHit(tokens: number): void {
    this.#stats.hits++;
    this.#stats.restoredTokens += tokens;
  }

  recordMiss(): void {
    this.#stats.misses++;
  }

  /**
   * Writes a state (in the background, one at a time: callers need not wait). Entries of the scope that
   * it covers (nearly) all of are superseded and removed; if it is itself a prefix of an entry, nothing
   * is new.
   */
  save(scope: string, tokens: Int32Array, data: Uint8Array, tag: string | null = null): Promise<void> {
    const run = this.#queue.then(() => this.#save(scope, tokens, data, tag));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #save(scope: string, tokens: Int32Array, data: Uint8Array, tag: string | null): Promise<void> {
    await this.open();
    if (tokens.length < this.minTokens || this.maxBytes === 0) return;
    const superseded: PromptCacheEntry[] = [];
    for (const e of this.#entries.values()) {
      if (e.scope !== scope) continue;
      const shared = commonPrefix(e.tokens, tokens);
      if (shared === tokens.length) {
        // Nothing new: the same conversation again (a regenerated reply, say). It was used just now.
        e.lastUsed = Date.now();
        if (tag && !e.tag) e.tag = tag;
        return;
      }
      // Covered up to its last few tokens (a reply re-tokenized differently when sent back, say):
      // the new state serves whatever the old one would, give or take a moment of evaluation.
      if (e.tokens.length - shared <= Math.min(64, e.tokens.length >> 2)) superseded.push(e);
    }
    const header = Buffer.from(JSON.stringify({ scope, tokens: tokens.length, dataBytes: data.length, tag: tag ?? superseded.find((e) => e.tag)?.tag ?? null, savedAt: Date.now() } satisfies Header));
    const head = Buffer.alloc(12);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(VERSION, 4);
    head.writeUInt32LE(header.length, 8);
    const tokenBytes = new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
    const parts = [head, header, tokenBytes, data];
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(await crc(parts), 0);
    const name = `${scope.slice(0, 16)}-${randomBytes(6).toString('hex')}${SUFFIX}`;
    const file = path.join(this.dir, name);
    const tmp = `${file}.tmp`;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writev([...parts, tail]);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (err) {
      // A full disk or a folder that went away: the conversation still works, only resuming costs time.
      this.#stats.saveFailures++;
      this.#onProblem('a conversation state could not be saved', err);
      await rm(tmp, { force: true }).catch(() => {});
      return;
    }
    const bytes = (await stat(file)).size;
    const entryTag = tag ?? superseded.find((e) => e.tag)?.tag ?? null;
    this.#entries.set(file, { file, scope, tokens: tokens.slice(), bytes, lastUsed: Date.now(), tag: entryTag });
    this.#stats.saves++;
    for (const e of superseded) await this.#remove(e);
    await this.#evict();
  }

  async #remove(e: PromptCacheEntry): Promise<void> {
    this.#entries.delete(e.file);
    await rm(e.file, { force: true }).catch((err: unknown) => this.#onProblem(`could not remove ${e.file}`, err));
  }

  async #evict(): Promise<void> {
    let total = this.totalBytes();
    if (total <= this.maxBytes) return;
    const byAge = [...this.#entries.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of byAge) {
      if (total <= this.maxBytes) break;
      total -= e.bytes;
      this.#stats.evictions++;
      await this.#remove(e);
    }
  }

  totalBytes(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.bytes;
    return n;
  }

  entries(): PromptCacheEntry[] {
    return [...this.#entries.values()];
  }

  /** Removes the states a conversation owns (after it is deleted). */
  async removeTag(tag: string): Promise<number> {
    await this.open();
    return this.#exclusive(async () => {
      const owned = [...this.#entries.values()].filter((e) => e.tag === tag);
      for (const e of owned) await this.#remove(e);
      return owned.length;
    });
  }

  /** Removes every saved state. */
  async clear(): Promise<void> {
    await this.open();
    await this.#exclusive(async () => {
      for (const e of [...this.#entries.values()]) await this.#remove(e);
    });
  }

  /** Applies a new size cap at once; `persist` keeps it for later starts (a user's choice in Settings). */
  async setMaxBytes(maxBytes: number, { persist = false } = {}): Promise<void> {
    if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new WestfallError('invalid_params', 'maxBytes must be a number of bytes, 0 or more');
    await this.open();
    this.maxBytes = maxBytes;
    if (persist) {
      const file = path.join(this.dir, LIMIT_FILE);
      await writeFile(`${file}.tmp`, `${JSON.stringify({ maxBytes })}\n`);
      await rename(`${file}.tmp`, file);
    }
    await this.#exclusive(() => this.#evict());
  }

  /** Waits for the saves queued so far (tests, shutdown). */
  async flush(): Promise<void> {
    await this.#queue;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  stats(): PromptCacheStats {
    return { entries: this.#entries.size, bytes: this.totalBytes(), maxBytes: this.maxBytes, ...this.#stats };
  }
}
