// Secrets never reach a log line: authorization headers, tokens, passwords, API keys, and a token
// passed in a URL query (WebSocket clients may use ?token=).

/** pino redact paths (one level of wildcard each; pino's syntax). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'token',
  'apiToken',
  'apiKey',
  'api_key',
  'password',
  '*.authorization',
  '*.token',
  '*.apiToken',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.secret',
  'config.apiToken',
];

export const REDACTED = '[redacted]';

const SECRET_QUERY_KEYS = /^(token|access_token|api_key|apikey|key|password)$/i;

/** Replaces secret query parameters of a URL (absolute or path-only) with [redacted]. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY_KEYS.test(key)) {
      params.set(key, REDACTED);
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

/** A bearer token shown to people as its first characters only. */
export function maskToken(token: string): string {
  return token.length <= 8 ? '****' : `${token.slice(0, 4)}…${token.slice(-2)}`;
}
