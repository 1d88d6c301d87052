// Documents as the backend shows them (/api/documents, src/documents): the shapes the screen and the chat
// read, and the calls they make.
import type { CollectionSummary as Collection, DocFile, IndexJob, SearchHit } from '../../../src/documents/types.js';
import { api } from '../store.js';

// The backend's own shapes (src/documents/types.ts has no imports: only types cross into the bundle).
export type { DocFile, IndexJob, SearchHit, Source } from '../../../src/documents/types.js';
export type { CollectionSummary as Collection } from '../../../src/documents/types.js';

export interface Citation {
  n: number;
  chunkId: number;
  path: string;
  fileName: string;
  page: number | null;
  heading: string | null;
  text: string;
}

export interface Passage {
  chunk: SearchHit & { start: number; end: number };
  before: string | null;
  after: string | null;
}

/** A window event: collections were made, renamed or deleted (the chat's chooser reloads). */
export const COLLECTIONS_CHANGED = 'wf-documents-changed';

export const isActive = (job: IndexJob | null | undefined): boolean => job?.state === 'queued' || job?.state === 'running';

/** "Page 2 · Chapter one" or "Notes › Internet": where a passage is in its file. */
export function placeOf(p: { page: number | null; heading: string | null }): string {
  return [p.page !== null ? `page ${p.page}` : null, p.heading].filter(Boolean).join(' · ');
}

export const documentsApi = {
  list: () => api().get<{ collections: Collection[] }>('/api/documents/collections').then((r) => r.collections),
  get: (id: number) => api().get<{ collection: Collection; files: DocFile[] }>(`/api/documents/collections/${id}`),
  create: (name: string, paths: string[]) => api().post<{ collection: Collection; job: IndexJob | null }>('/api/documents/collections', { name, paths }),
  update: (id: number, patch: { name?: string; watch?: boolean }) => api().patch<{ collection: Collection }>(`/api/documents/collections/${id}`, patch),
  remove: (id: number) => api().delete<{ deleted: number }>(`/api/documents/collections/${id}`),
  addPath: (id: number, path: string) => api().post<{ job: IndexJob | null }>(`/api/documents/collections/${id}/sources`, { path }),
  removeSource: (id: number, sourceId: number) => api().delete(`/api/documents/collections/${id}/sources/${sourceId}`),
  index: (id: number) => api().post<{ job: IndexJob }>(`/api/documents/collections/${id}/index`),
  stop: (id: number) => api().post<{ job: IndexJob | null }>(`/api/documents/collections/${id}/stop`),
  search: (query: string, collections?: number[]) => api().post<{ hits: SearchHit[]; vectorSkipped: string | null; tookMs: number }>('/api/documents/search', { query, ...(collections ? { collections } : {}) }),
  context: (query: string, collections: number[], budgetTokens?: number) =>
    api().post<{ message: string; citations: Citation[]; vectorSkipped: string | null }>('/api/documents/context', { query, collections, ...(budgetTokens ? { budgetTokens } : {}) }),
  passage: (chunkId: number) => api().get<Passage>(`/api/documents/passages/${chunkId}`),
  chatCollections: (conversationId: string) => api().get<{ collections: number[] }>(`/api/documents/chats/${encodeURIComponent(conversationId)}/collections`).then((r) => r.collections),
  setChatCollections: (conversationId: string, ids: number[]) => api().put<{ collections: number[] }>(`/api/documents/chats/${encodeURIComponent(conversationId)}/collections`, { collections: ids }).then((r) => r.collections),
};
