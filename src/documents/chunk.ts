// Chunking by structure. The document's text is the pages joined by a blank line; it is cut into blocks
// (paragraphs, at blank lines), Markdown-style heading lines ("# Title", which the HTML and DOCX extractors
// also write) open a new section, and consecutive blocks of one section and one page are packed into
// chunks of up to `maxChars`. A chunk never spans two sections or two pages, so its heading and page are
// exact; within a section, each chunk starts `overlapChars` before the previous one ended (at a word
// boundary), so a fact cut at a chunk border is whole in one of them. A chunk's text is exactly
// text.slice(start, end): the offsets a citation carries point at the passage itself.
import type { Chunk, ExtractedPage } from './types.js';

export interface ChunkOptions {
  /** Largest chunk in characters (default 1200, ~300 tokens). */
  maxChars?: number;
  /** Characters a chunk repeats from the previous one of its section (default 200). */
  overlapChars?: number;
}

interface Block {
  start: number;
  end: number;
  page: number | null;
  heading: string | null;
  /** Index of the section (heading or page change) the block belongs to. */
  section: number;
}

const HEADING_RE = /^(#{1,6})\s+(.+?)\s*#*\s*$/;

/** The document's text as chunks see it: pages joined by "\n\n", with where each page starts. */
export function joinPages(pages: readonly ExtractedPage[]): { text: string; pageStarts: { page: number | null; start: number }[] } {
  let text = '';
  const pageStarts: { page: number | null; start: number }[] = [];
  for (const p of pages) {
    if (text.length > 0) text += '\n\n';
    pageStarts.push({ page: p.page, start: text.length });
    text += p.text;
  }
  return { text, pageStarts };
}

export function chunkDocument(pages: readonly ExtractedPage[], options: ChunkOptions = {}): { text: string; chunks: Chunk[] } {
  const maxChars = Math.max(200, options.maxChars ?? 1200);
  const overlap = Math.max(0, Math.min(options.overlapChars ?? 200, Math.floor(maxChars / 3)));
  const { text, pageStarts } = joinPages(pages);
  const blocks = splitBlocks(text, pageStarts, maxChars);
  const chunks: Chunk[] = [];
  let i = 0;
  while (i < blocks.length) {
    const first = blocks[i]!;
    let start = first.start;
    // Overlap with the previous chunk of the same section.
    const prev = chunks[chunks.length - 1];
    const prevBlock = i > 0 ? blocks[i - 1]! : null;
    if (prev && prevBlock && prevBlock.section === first.section && overlap > 0) {
      const from = Math.max(prevBlock.start, prev.end - overlap);
      start = wordStart(text, from, prev.end);
    }
    let end = first.end;
    let j = i + 1;
    while (j < blocks.length && blocks[j]!.section === first.section && blocks[j]!.end - start <= maxChars) {
      end = blocks[j]!.end;
      j++;
    }
    chunks.push({ ord: chunks.length, text: text.slice(start, end), heading: first.heading, page: first.page, start, end });
    i = j;
  }
  return { text, chunks };
}

/** The first word start at or after `from` (before `limit`), so an overlap does not begin mid-word. */
function wordStart(text: string, from: number, limit: number): number {
  if (from <= 0 || /\s/.test(text[from - 1]!)) return from;
  for (let k = from; k < limit; k++) if (/\s/.test(text[k]!)) return k + 1 < limit ? k + 1 : from;
  return from;
}

function splitBlocks(text: string, pageStarts: readonly { page: number | null; start: number }[], maxChars: number): Block[] {
  const blocks: Block[] = [];
  const headings: string[] = [];
  let section = 0;
  let lastPage: number | null | undefined;
  let pageIdx = 0;
  const re = /[^\n]+(?:\n(?!\s*\n)[^\n]*)*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const raw = m[0];
    let start = m.index;
    let end = start + raw.length;
    // Trim the block's own whitespace so offsets point at text.
    while (start < end && /\s/.test(text[start]!)) start++;
    while (end > start && /\s/.test(text[end - 1]!)) end--;
    if (start >= end) continue;
    while (pageIdx + 1 < pageStarts.length && pageStarts[pageIdx + 1]!.start <= start) pageIdx++;
    const page = pageStarts[pageIdx]?.page ?? null;
    if (page !== lastPage) {
      if (lastPage !== undefined) section++;
      lastPage = page;
    }
    const firstLine = text.slice(start, end).split('\n', 1)[0]!;
    const h = HEADING_RE.exec(firstLine);
    if (h) {
      const level = h[1]!.length;
      headings.length = level - 1;
      headings[level - 1] = h[2]!;
      section++;
    }
    const heading = headings.filter(Boolean).join(' › ') || null;
    for (const [s, e] of splitLong(text, start, end, maxChars)) blocks.push({ start: s, end: e, page, heading, section });
  }
  return blocks;
}

/** Cuts a block longer than `maxChars` at sentence ends (else spaces, else anywhere). */
function splitLong(text: string, start: number, end: number, maxChars: number): [number, number][] {
  const out: [number, number][] = [];
  let s = start;
  while (end - s > maxChars) {
    const window = text.slice(s, s + maxChars);
    let cut = -1;
    const sentence = /[.!?。](?=\s)/g;
    for (let m = sentence.exec(window); m; m = sentence.exec(window)) if (m.index > maxChars / 2) cut = m.index + 1;
    if (cut < 0) {
      const sp = window.lastIndexOf(' ');
      cut = sp > maxChars / 2 ? sp : maxChars;
    }
    out.push([s, s + cut]);
    s += cut;
    while (s < end && /\s/.test(text[s]!)) s++;
  }
  if (s < end) out.push([s, end]);
  return out;
}
