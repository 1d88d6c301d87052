// An MCP tool's result as the model and the app get it: the text parts joined (what the model reads),
// images and audio saved as attachments (the app shows them; the model is told one is there, since it
// cannot see pixels), embedded resources as their text or their URI. A result with isError becomes a
// typed error, so the model and the user see that the tool failed and why.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { WestfallError } from '../errors.js';

export interface McpAttachment {
  id: string;
  mimeType: string;
  bytes: number;
  /** Where the app fetches it. */
  url: string;
}

export interface McpToolResult {
  text: string;
  attachments?: McpAttachment[];
  resources?: { uri: string; mimeType?: string }[];
  structured?: unknown;
}

/** Largest attachment kept (an image the server sends); bigger ones are described, not saved. */
export const MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024;
const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'audio/wav': 'wav', 'audio/mpeg': 'mp3' };
export const ATTACHMENT_ID_RE = /^[0-9a-f]{64}\.(png|jpg|gif|webp|wav|mp3|bin)$/;

export function attachmentMime(id: string): string {
  const ext = id.split('.').pop();
  return Object.entries(EXT).find(([, e]) => e === ext)?.[0] ?? 'application/octet-stream';
}

function saveAttachment(dir: string, base64: string, mimeType: string): McpAttachment | string {
  const buf = Buffer.from(base64, 'base64');
  if (buf.length > MAX_ATTACHMENT_BYTES) return `[${mimeType} of ${buf.length} bytes, too large to keep]`;
  const id = `${createHash('sha256').update(buf).digest('hex')}.${EXT[mimeType] ?? 'bin'}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, id), buf);
  return { id, mimeType, bytes: buf.length, url: `/api/mcp/attachments/${id}` };
}

export function convertResult(server: string, tool: string, result: CallToolResult, attachmentsDir: string): McpToolResult {
  const texts: string[] = [];
  const attachments: McpAttachment[] = [];
  const resources: { uri: string; mimeType?: string }[] = [];
  for (const part of Array.isArray(result.content) ? result.content.slice(0, 100) : []) {
    if (part.type === 'text') texts.push(part.text);
    else if (part.type === 'image' || part.type === 'audio') {
      const saved = saveAttachment(attachmentsDir, part.data, part.mimeType);
      if (typeof saved === 'string') texts.push(saved);
      else {
        attachments.push(saved);
        texts.push(`[${part.type} ${saved.mimeType}, ${saved.bytes} bytes, shown to the user as attachment ${saved.id.slice(0, 12)}]`);
      }
    } else if (part.type === 'resource') {
      const r = part.resource as { uri: string; mimeType?: string; text?: string };
      if (typeof r.text === 'string') texts.push(r.text);
      resources.push({ uri: r.uri, ...(r.mimeType ? { mimeType: r.mimeType } : {}) });
    } else if (part.type === 'resource_link') {
      resources.push({ uri: part.uri, ...(part.mimeType ? { mimeType: part.mimeType } : {}) });
      texts.push(`[resource ${part.uri}]`);
    }
  }
  const text = texts.join('\n');
  if (result.isError) {
    throw new WestfallError('mcp_tool_failed', `${tool} (MCP server ${server}) failed: ${text.slice(0, 2000) || 'no message'}`, { details: { server, tool } });
  }
  return {
    text,
    ...(attachments.length ? { attachments } : {}),
    ...(resources.length ? { resources } : {}),
    ...(result.structuredContent !== undefined && texts.length === 0 ? { structured: result.structuredContent } : {}),
  };
}
