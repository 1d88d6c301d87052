// The shapes of the documents library: collections, their sources and files, chunks with where they come
// from (for citations), index jobs and search hits.

export type DocumentKind = 'pdf' | 'docx' | 'markdown' | 'text' | 'html' | 'csv';

/** Extensions the indexer reads, by kind. Anything else in a folder is ignored (not listed as failed). */
export const EXTENSIONS: Readonly<Record<string, DocumentKind>> = {
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.html': 'html',
  '.htm': 'html',
  '.csv': 'csv',
};

export interface Collection {
  id: number;
  name: string;
  /** The model that embedded the collection's chunks (null until the first file is embedded). */
  embedModel: string | null;
  dimensions: number | null;
  /** Folders are watched for changes (fs.watch, debounced) while the backend runs. */
  watch: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CollectionSummary extends Collection {
  sources: Source[];
  files: number;
  failed: number;
  chunks: number;
  pages: number;
  job: IndexJob | null;
}

export interface Source {
  id: number;
  collectionId: number;
  path: string;
  kind: 'folder' | 'file';
}

export interface DocFile {
  id: number;
  collectionId: number;
  path: string;
  size: number;
  hash: string | null;
  status: 'indexed' | 'failed';
  /** Why it failed (null when indexed). */
  error: string | null;
  pages: number;
  chunks: number;
  indexedAt: string;
}

export type JobState = 'queued' | 'running' | 'stopped' | 'done' | 'failed';

export interface IndexJob {
  id: number;
  collectionId: number;
  state: JobState;
  phase: 'scan' | 'index' | 'done';
  filesTotal: number;
  /** Files handled so far this job (indexed, unchanged, failed or removed). */
  filesDone: number;
  /** Unchanged files (same content hash): not read again. */
  filesSkipped: number;
  filesFailed: number;
  filesRemoved: number;
  pages: number;
  chunksEmbedded: number;
  currentFile: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** A page (PDF) or the whole text (other kinds) as extracted. */
export interface ExtractedPage {
  /** 1-based page number; null for formats without pages. */
  page: number | null;
  text: string;
}

export interface Chunk {
  ord: number;
  text: string;
  /** The nearest heading above the chunk ("Chapter 2 › Costs"), null when there is none. */
  heading: string | null;
  page: number | null;
  /** Character offsets of the chunk in the document's extracted text (pages joined by "\n\n"). */
  start: number;
  end: number;
}

export interface SearchHit {
  chunkId: number;
  collectionId: number;
  fileId: number;
  path: string;
  fileName: string;
  page: number | null;
  heading: string | null;
  start: number;
  end: number;
  text: string;
  /** Reciprocal-rank-fusion score (higher is better). */
  score: number;
  /** 1-based ranks in each list (null: not in that list). */
  bm25Rank: number | null;
  vectorRank: number | null;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Why the vector side was left out, if it was (no embedding model, a collection never embedded). */
  vectorSkipped: string | null;
  tookMs: number;
}

/** Embeds texts with a local model; the server passes the model manager's embed (src/server/model-manager.ts). */
export type Embedder = (texts: string[], model: string | undefined, signal?: AbortSignal) => Promise<{ embeddings: Float32Array[]; modelId: string }>;
