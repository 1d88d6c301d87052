// Provider URLs: only http(s), no credentials, query or fragment (a key belongs in the key field, where
// it is sealed, not in a URL that ends up in logs). A bare origin gets OpenAI's "/v1", as every
// OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio) serves it there.
import { WestfallError } from '../errors.js';

export function normalizeBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new WestfallError('provider_invalid_url', `"${input.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WestfallError('provider_invalid_url', `only http and https URLs are allowed, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username || url.password) throw new WestfallError('provider_invalid_url', 'put the API key in the key field, not in the URL');
  if (url.search || url.hash) throw new WestfallError('provider_invalid_url', 'the URL must not have a query or fragment');
  let path = url.pathname.replace(/\/+$/, '');
  if (path === '') path = '/v1';
  return `${url.origin}${path}`;
}

/** The host a provider's requests go to ("gpu-box:8080"), for people. */
export function hostOf(baseUrl: string): string {
  return new URL(baseUrl).host;
}

/** Shell-style pattern match ("qwen*", "*:8b"), case-insensitive. */
export function matchesFilter(model: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => {
    const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
    return re.test(model);
  });
}
