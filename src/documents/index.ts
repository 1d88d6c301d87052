// Documents: collections of the user's files, indexed for hybrid retrieval with citations (docs/documents.md).
export { chunkDocument, joinPages, type ChunkOptions } from './chunk.js';
export { csvToText, extractBytes, extractFile, htmlToText, kindOf } from './extract.js';
export { contextMessage, estimateTokens, ftsQuery, reciprocalRankFusion, RRF_K, selectPassages, type Passage } from './search.js';
export { DocumentService, expandHome, type ChatContext, type DocumentServiceOptions, type SearchOptions } from './service.js';
export { DocumentStore } from './store.js';
export { documentTools } from './tools.js';
export * from './types.js';
