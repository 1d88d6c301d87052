// An upstream's failure as one of our catalog errors: what went wrong at the provider (unreachable,
// refused key, unknown model, rate limit, 5xx) is said plainly, with the provider's own message cut short
// and cleaned of the key, in case a server echoes the Authorization header back.
import { WestfallError, isWestfallError } from '../errors.js';

export interface UpstreamContext {
  provider: string;
  host: string;
  /** Scrubbed from any text taken from the upstream. */
  apiKey: string | null;
}

export function scrub(text: string, apiKey: string | null): string {
  let out = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  if (apiKey && apiKey.length >= 4) out = out.split(apiKey).join('[redacted]');
  return out;
}

/** Seconds from a Retry-After header (seconds or an HTTP date); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(0, Math.ceil(Number(value)));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The upstream's error message from an OpenAI-shaped body, or the start of the text. */
function upstreamMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (j.error && typeof j.error.message === 'string') return j.error.message;
    if (typeof j.message === 'string') return j.message;
    if (typeof j.detail === 'string') return j.detail;
  } catch {
    // not JSON: the text itself
  }
  return body.trim();
}

/** An HTTP error answer (status >= 400) as our error. */
export function httpError(ctx: UpstreamContext, status: number, body: string, headers: Headers, what: 'chat' | 'models', model?: string): WestfallError {
  const said = scrub(upstreamMessage(body), ctx.apiKey);
  const from = `${ctx.provider} (${ctx.host})`;
  const details = { provider: ctx.provider, host: ctx.host, upstreamStatus: status, ...(said ? { upstreamMessage: said } : {}) };
  if (status === 401 || status === 403) {
    return new WestfallError('upstream_auth', `${from} refused the API key (HTTP ${status})${said ? `: ${said}` : ''}`, { details });
  }
  if (status === 404 && what === 'chat') {
    return new WestfallError('upstream_model_not_found', `${from} does not serve the model "${model ?? ''}"${said ? `: ${said}` : ''}`, { details: { ...details, model } });
  }
  if (status === 404) {
    return new WestfallError('upstream_error', `${from} has no ${what === 'models' ? '/models' : 'such'} endpoint: is the URL that of an OpenAI-compatible server (usually ending in /v1)?`, { details });
  }
  if (status === 429) {
    const retryAfter = parseRetryAfter(headers.get('retry-after'));
    return new WestfallError('upstream_rate_limited', `${from} is rate limiting requests${retryAfter !== null ? `; retry in ${retryAfter} s` : ''}`, {
      details: { ...details, retryAfter: retryAfter ?? 1 },
    });
  }
  if (status >= 500) return new WestfallError('upstream_error', `${from} failed with HTTP ${status}${said ? `: ${said}` : ''}`, { details });
  return new WestfallError('invalid_request', `${from} rejected the request (HTTP ${status})${said ? `: ${said}` : ''}`, { details });
}

/** A failure of fetch itself (no HTTP answer) as our error; aborts stay `aborted`. */
export function networkError(ctx: UpstreamContext, err: unknown, timedOut: boolean, timeoutMs: number): WestfallError {
  const from = `${ctx.provider} (${ctx.host})`;
  if (!timedOut && isWestfallError(err)) return err;
  if (timedOut) {
    return new WestfallError('upstream_unreachable', `${from} did not answer within ${Math.round(timeoutMs / 1000)} s`, { details: { provider: ctx.provider, host: ctx.host, timeoutMs } });
  }
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (err as { code?: string })?.code;
  const reason = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host name not found' : code === 'ECONNRESET' ? 'connection reset' : (cause?.message ?? (err as Error)?.message ?? String(err));
  return new WestfallError('upstream_unreachable', `${from} could not be reached: ${scrub(reason, ctx.apiKey)}`, { details: { provider: ctx.provider, host: ctx.host, ...(code ? { cause: code } : {}) } });
}

/** Worth another try at the same provider (before the first token only). */
export function isTransient(err: unknown): boolean {
  return isWestfallError(err) && (err.code === 'upstream_unreachable' || err.code === 'upstream_error' || err.code === 'upstream_rate_limited');
}

/** Worth trying the fallback: anything that is not the request's own fault or the client leaving. */
export function allowsFallback(err: unknown): boolean {
  return isWestfallError(err) && err.code !== 'aborted' && err.code !== 'invalid_request';
}
