// The MCP servers the user adds, in the shape every MCP client shares (Claude Desktop's
// claude_desktop_config.json, VS Code's mcp.json, Cursor, LM Studio): a map of names to either a command
// started over stdio (command, args, env, cwd) or a streamable-HTTP URL with optional headers. Imports
// accept a whole file in any of those shapes ({ mcpServers }, VS Code's { servers } or { mcp: { servers } })
// and report each entry that cannot be used instead of failing the file.
import { z } from 'zod';
import { WestfallError } from '../errors.js';

/** A server's name: lowercase letters, digits and _-, as it appears in namespaced tool names. */
export const SERVER_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const envMap = z.record(z.string().min(1).max(200), z.string().max(10_000)).refine((m) => Object.keys(m).length <= 100, 'at most 100 entries');

export const stdioServerSchema = z
  .object({
    type: z.literal('stdio').optional(),
    command: z.string().min(1).max(4096),
    args: z.array(z.string().max(10_000)).max(200).default([]),
    env: envMap.optional(),
    cwd: z.string().min(1).max(4096).optional(),
  })
  .strict();

export const httpServerSchema = z
  .object({
    type: z.enum(['http', 'streamable-http', 'streamableHttp']).optional(),
    url: z
      .string()
      .max(4096)
      .refine((u) => {
        try {
          const p = new URL(u);
          return (p.protocol === 'http:' || p.protocol === 'https:') && !p.username && !p.password;
        } catch {
          return false;
        }
      }, 'must be an http(s) URL without credentials'),
    headers: envMap.optional(),
  })
  .strict();

export const serverConfigSchema = z.union([stdioServerSchema, httpServerSchema]);
export type McpServerConfig = z.output<typeof serverConfigSchema>;
export type StdioServerConfig = z.output<typeof stdioServerSchema>;
export type HttpServerConfig = z.output<typeof httpServerSchema>;

export function isStdio(c: McpServerConfig): c is StdioServerConfig {
  return 'command' in c;
}

/** Parses one server entry; invalid_params names the field. */
export function parseServerConfig(raw: unknown): McpServerConfig {
  // Fields other clients add that mean nothing here are dropped rather than refused.
  const cleaned = raw && typeof raw === 'object' && !Array.isArray(raw) ? omit(raw as Record<string, unknown>, ['disabled', 'autoApprove', 'alwaysAllow', 'timeout', 'description', 'envFile']) : raw;
  const r = serverConfigSchema.safeParse(cleaned);
  if (r.success) return r.data;
  const msg = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(entry)'}: ${i.message}`).join('; ');
  throw new WestfallError('invalid_params', `not an MCP server entry (give command and args, or url): ${msg}`);
}

function omit(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

/** A name other clients gave a server ("Brave Search", "fs") as a SERVER_NAME_RE name. */
export function normalizeServerName(name: string): string {
  const n = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 32);
  return n || 'server';
}

export interface ImportedServers {
  servers: { name: string; config: McpServerConfig }[];
  /** Entries that could not be used, with why. */
  skipped: { name: string; reason: string }[];
}

/** Reads a config file's text (Claude Desktop, VS Code, Cursor shapes). */
export function parseMcpServersFile(text: string): ImportedServers {
  if (text.length > 1_000_000) throw new WestfallError('invalid_params', 'the file is larger than 1 MB; an MCP configuration is a few KB');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // Only where: V8's message quotes the text, and an imported path may be any file.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new WestfallError('invalid_params', `the file is not JSON${at ? ` (at character ${at})` : ''}`);
  }
  return importMcpServers(doc);
}

export function importMcpServers(doc: unknown): ImportedServers {
  const root = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : null;
  const mcp = root?.mcp && typeof root.mcp === 'object' ? (root.mcp as Record<string, unknown>) : null;
  const map = root?.mcpServers ?? root?.servers ?? mcp?.servers ?? null;
  if (!map || typeof map !== 'object' || Array.isArray(map)) {
    throw new WestfallError('invalid_params', 'no "mcpServers" (or VS Code "servers") object in the file');
  }
  const out: ImportedServers = { servers: [], skipped: [] };
  const taken = new Set<string>();
  for (const [rawName, entry] of Object.entries(map as Record<string, unknown>).slice(0, 200)) {
    let name = normalizeServerName(rawName);
    for (let i = 2; taken.has(name); i++) name = `${normalizeServerName(rawName).slice(0, 29)}-${i}`;
    try {
      out.servers.push({ name, config: parseServerConfig(entry) });
      taken.add(name);
    } catch (err) {
      out.skipped.push({ name: rawName, reason: (err as Error).message });
    }
  }
  return out;
}
