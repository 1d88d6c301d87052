// Searching the Hugging Face hub for GGUF models from the app. Two calls of the hub's public API:
//   GET {hub}/api/models?search=NAME&filter=gguf&limit=N        the repositories
//   GET {hub}/api/models/{owner}/{repo}/tree/main               each one's files, LFS ones with sha256 and size
// and a download URL per file, {hub}/{owner}/{repo}/resolve/main/{path}, that the download jobs fetch. The
// hub's base URL is a setting (WESTFALL_HUB_URL), so a mirror, or a fake hub in tests, answers instead.
//
// Whether a file fits this computer is judged like the catalog's entries: the memory it needs at an 8k
// context against modelBudget(). A hub file has no architecture shape to plan with before it is downloaded,
// so its need is its size times the ratio of the catalog model nearest in size (whose figure the footprint
// planner computed from its real shape).

import { z } from 'zod';
import { WestfallError } from '../errors.js';
import type { CatalogEntry } from './catalog.js';
import { MODEL_FILE_NAME_RE } from './catalog.js';
import type { FetchLike } from './downloader.js';
import { modelBudget, type MachineMemory } from './fit.js';
import type { HubFile, HubModel, HubSearchResult } from './types.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

const REPO_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Split models (name-00001-of-00003.gguf) need every part in one folder; the store keeps one file per model. */
const SPLIT_RE = /-\d{5}-of-\d{5}\.gguf$/i;
/** The quantization as GGUF publishers write it in file names (Q4_K_M, IQ3_XXS, BF16, MXFP4, …). */
const QUANT_RE = /(?:^|[-._])((?:I?Q\d(?:_[A-Z0-9]+)*)|BF16|F16|F32|MXFP4(?:_MOE)?)(?=[-._]|$)/i;

const searchSchema = z.array(
  z.looseObject({
    id: z.string(),
    downloads: z.number().optional(),
    likes: z.number().optional(),
    lastModified: z.string().optional(),
  }),
);
const treeSchema = z.array(
  z.looseObject({
    type: z.string(),
    path: z.string(),
    size: z.number().nonnegative().optional(),
    lfs: z.looseObject({ oid: z.string().optional(), sha256: z.string().optional(), size: z.number().optional() }).optional(),
  }),
);

export function quantizationFromName(fileName: string): string | undefined {
  return QUANT_RE.exec(fileName.replace(/\.gguf$/i, ''))?.[1]?.toUpperCase();
}

/** Memory at an 8k context for a model file of `fileBytes`, scaled from the catalog entry nearest in size. */
export function estimateMemoryFromFileSize(fileBytes: number, catalog: readonly CatalogEntry[]): number {
  let nearest: CatalogEntry | undefined;
  for (const e of catalog) {
    if (e.sizeBytes <= 0) continue;
    if (!nearest || Math.abs(Math.log(e.sizeBytes / fileBytes)) < Math.abs(Math.log(nearest.sizeBytes / fileBytes))) nearest = e;
  }
  // Without a catalog: the weights plus a fifth for the KV cache and compute buffer.
  const ratio = nearest ? nearest.memoryBytes / nearest.sizeBytes : 1.2;
  return Math.round(fileBytes * ratio);
}

export interface HubClientOptions {
  baseUrl?: string;
  fetchImpl?: FetchLike;
  /** Per request. Default 15 s. */
  timeoutMs?: number;
}

export class HubClient {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;

  constructor(opts: HubClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
    this.fetchImpl = opts.fetchImpl ?? ((u, i) => fetch(u, i));
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  /** The download URL of a file of a repository. */
  resolveUrl(repo: string, path: string): string {
    return `${this.baseUrl}/${repo}/resolve/main/${path.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** The repository and file path of one of this hub's download URLs, or undefined. */
  parseResolveUrl(url: string): { repo: string; path: string } | undefined {
    if (!url.startsWith(`${this.baseUrl}/`)) return undefined;
    const m = /^([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.slice(this.baseUrl.length + 1).split(/[?#]/)[0]!);
    if (!m || !REPO_RE.test(m[1]!)) return undefined;
    try {
      return { repo: m[1]!, path: decodeURIComponent(m[2]!) };
    } catch {
      return undefined;
    }
  }

  private async getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        headers: { accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new WestfallError('hub_unavailable', `The model hub at ${this.baseUrl} cannot be reached (${(err as Error).message})`, {
        details: { hubUrl: this.baseUrl },
        cause: err,
      });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new WestfallError('hub_unavailable', `The model hub at ${this.baseUrl} answered HTTP ${res.status}`, {
        details: { hubUrl: this.baseUrl, status: res.status },
      });
    }
    try {
      return await res.json();
    } catch (err) {
      throw new WestfallError('hub_unavailable', `The model hub at ${this.baseUrl} sent an answer that is not JSON`, {
        details: { hubUrl: this.baseUrl },
        cause: err,
      });
    }
  }

  /** The GGUF files at the top of a repository's main branch (split models are listed apart as unsupported). */
  async files(repo: string, signal?: AbortSignal): Promise<{ files: HubFile[]; skippedSplit: number }> {
    if (!REPO_RE.test(repo)) throw new WestfallError('invalid_params', `invalid repository name: ${repo}`);
    const parsed = treeSchema.safeParse(await this.getJson(`/api/models/${repo}/tree/main`, signal));
    if (!parsed.success) {
      throw new WestfallError('hub_unavailable', `The model hub's file list for ${repo} has an unexpected shape`, { details: { repo } });
    }
    const files: HubFile[] = [];
    let skippedSplit = 0;
    for (const f of parsed.data) {
      if (f.type !== 'file' || !f.path.toLowerCase().endsWith('.gguf') || f.path.includes('/')) continue;
      if (SPLIT_RE.test(f.path)) {
        skippedSplit++;
        continue;
      }
      const size = f.lfs?.size ?? f.size;
      const sha = (f.lfs?.sha256 ?? f.lfs?.oid)?.toLowerCase();
      const file: HubFile = {
        path: f.path,
        fileName: f.path,
        sizeBytes: size ?? null,
        url: this.resolveUrl(repo, f.path),
        downloadable: MODEL_FILE_NAME_RE.test(f.path),
      };
      if (sha !== undefined && /^[0-9a-f]{64}$/.test(sha)) file.sha256 = sha;
      const q = quantizationFromName(f.path);
      if (q !== undefined) file.quantization = q;
      files.push(file);
    }
    files.sort((a, b) => (a.sizeBytes ?? 0) - (b.sizeBytes ?? 0) || a.path.localeCompare(b.path));
    return { files, skippedSplit };
  }

  /** The published SHA-256 of one file, when the hub lists it. */
  async sha256Of(repo: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
    const { files } = await this.files(repo, signal);
    return files.find((f) => f.path === path)?.sha256;
  }

  /**
   * Repositories whose name matches `query`, GGUF only, each with its GGUF files (the first `limit`
   * repositories, their file lists fetched together), marked against `machine`.
   */
  async search(
    query: string,
    opts: { limit?: number; machine: MachineMemory; catalog: readonly CatalogEntry[]; signal?: AbortSignal },
  ): Promise<HubSearchResult> {
    const limit = opts.limit ?? 10;
    const qs = new URLSearchParams({ search: query, filter: 'gguf', sort: 'downloads', direction: '-1', limit: String(limit) });
    const parsed = searchSchema.safeParse(await this.getJson(`/api/models?${qs}`, opts.signal));
    if (!parsed.success) throw new WestfallError('hub_unavailable', "The model hub's search answer has an unexpected shape");
    const budgetBytes = modelBudget(opts.machine);
    const repos = parsed.data.filter((r) => REPO_RE.test(r.id)).slice(0, limit);
    const models: HubModel[] = await Promise.all(
      repos.map(async (r): Promise<HubModel> => {
        const base: HubModel = { repo: r.id, files: [], skippedSplit: 0 };
        if (r.downloads !== undefined) base.downloads = r.downloads;
        if (r.likes !== undefined) base.likes = r.likes;
        try {
          const { files, skippedSplit } = await this.files(r.id, opts.signal);
          base.skippedSplit = skippedSplit;
          base.files = files.map((f) => {
            if (f.sizeBytes === null) return f;
            const memoryBytes = estimateMemoryFromFileSize(f.sizeBytes, opts.catalog);
            return { ...f, memoryBytes, fits: memoryBytes <= budgetBytes };
          });
        } catch (err) {
          // One repository's list failing leaves the others usable.
          base.error = (err as Error).message;
        }
        return base;
      }),
    );
    return { query, hubUrl: this.baseUrl, budgetBytes, models };
  }
}
