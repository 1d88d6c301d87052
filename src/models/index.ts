// Model management: the catalog of recommended models, the resumable verified downloader, the store
// (installed models, delete, running downloads), importing a file from disk, and the hub search.

import type { ErrorCode } from '../errors.js';

export * from './catalog.js';
export * from './fit.js';
export * from './footprint.js';
export * from './downloader.js';
export * from './hub.js';
export * from './import.js';
export * from './store.js';
export * from './types.js';

/**
 * HTTP status for each error code this module throws (the same as src/server/errors.ts maps them). Download
 * failures mostly reach clients inside a download's snapshot or its SSE `error` event rather than as an HTTP
 * status, because downloads run after the 202.
 */
export const MODEL_ERROR_HTTP_STATUS = {
  download_not_found: 502, // the upstream URL is missing (not this server's resource)
  download_failed: 502,
  download_interrupted: 502,
  download_job_not_found: 404,
  download_in_progress: 409,
  download_not_resumable: 409,
  insufficient_disk_space: 507,
  checksum_mismatch: 422,
  checksum_unavailable: 422,
  model_exists: 409,
  model_in_use: 409,
  invalid_model: 422,
  hub_unavailable: 502,
} as const satisfies Partial<Record<ErrorCode, number>>;
