// search_documents: the model searches the user's document collections (read-only, no confirmation).
import { z } from 'zod';
import { defineTool, type AnyTool } from '../tools/registry.js';
import type { DocumentService } from './service.js';

export function documentTools(docs: DocumentService): AnyTool[] {
  return [
    defineTool({
      name: 'search_documents',
      title: 'Search my documents',
      description:
        "Searches the user's own documents (their indexed PDF, Word, Markdown, text, HTML and CSV files) and returns " +
        'the most relevant passages with file name and page. Cite a passage you use as [n] with its number.',
      input: z.object({
        query: z.string().min(1).max(500).describe('What to look for, in words'),
        collection: z.string().max(200).optional().describe('A collection name; all collections when absent'),
        limit: z.number().int().min(1).max(10).default(5),
      }),
      mutates: false,
      handler: async (args, ctx) => {
        const ids = args.collection ? [docs.store.findCollection(args.collection).id] : docs.store.collections().map((c) => c.id);
        const res = await docs.search(args.query, { collections: ids, limit: args.limit, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        return {
          passages: res.hits.map((h, i) => ({ n: i + 1, file: h.fileName, path: h.path, page: h.page, heading: h.heading, text: h.text, chunkId: h.chunkId })),
          ...(res.vectorSkipped ? { note: `keyword search only: ${res.vectorSkipped}` } : {}),
        };
      },
    }),
  ];
}
