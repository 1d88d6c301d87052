// A conversation as a file: JSON (every branch, importable again) or Markdown (the path shown, to read or
// share). File names come from the title, reduced to characters every file system accepts.
import type { ConversationTree } from '../storage/index.js';
import { PRESETS } from '../storage/chat-presets.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type ConversationExport } from './conversation-schemas.js';

export function exportJson(tree: ConversationTree, now = new Date()): ConversationExport {
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: now.toISOString(),
    conversation: {
      title: tree.title,
      createdAt: tree.createdAt,
      updatedAt: tree.updatedAt,
      settings: tree.settings,
      leafId: tree.leafId,
      // seq is an internal order; ids and parents carry the tree.
      messages: tree.messages.map(({ seq: _seq, ...m }) => m),
    },
  };
}

const ROLE_HEADING: Record<string, string> = { user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool result' };

/** The path shown, as Markdown: a heading per message, thinking in a quoted block, tool calls as JSON. */
export function exportMarkdown(tree: ConversationTree): string {
  const byId = new Map(tree.messages.map((m) => [m.id, m]));
  const path = [];
  for (let id = tree.leafId; id !== null; ) {
    const m = byId.get(id);
    if (!m) break;
    path.unshift(m);
    id = m.parentId;
  }
  const lines = [`# ${tree.title || 'Untitled chat'}`, ''];
  const s = tree.settings;
  if (s) {
    const preset = s.preset === 'custom' ? 'Custom' : PRESETS[s.preset].label;
    const p = s.sampling;
    lines.push(`*Preset: ${preset} · temperature ${p.temperature} · top-p ${p.topP} · top-k ${p.topK} · min-p ${p.minP} · repeat penalty ${p.repeatPenalty} · max tokens ${p.maxTokens}${p.seed !== null ? ` · seed ${p.seed}` : ''}*`, '');
    if (s.systemPrompt) lines.push('## System prompt', '', s.systemPrompt, '');
  }
  const branches = tree.messages.length - path.length;
  if (branches > 0) lines.push(`*${branches} message${branches === 1 ? '' : 's'} on other branches are not shown; the JSON export has them.*`, '');
  for (const m of path) {
    lines.push(`## ${ROLE_HEADING[m.role] ?? m.role}${m.name ? ` (${m.name})` : ''}`, '');
    if (m.reasoning) lines.push(...m.reasoning.split('\n').map((l) => `> ${l}`), '');
    if (m.content) lines.push(m.content, '');
    for (const c of m.toolCalls ?? []) lines.push(`Tool call \`${c.name}\`:`, '', '```json', JSON.stringify(c.arguments, null, 2), '```', '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A file name from the title (ASCII letters, digits and -, so it fits a header). */
export function exportFileName(title: string, ext: 'json' | 'md'): string {
  const base = title
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${base || 'chat'}.${ext}`;
}
