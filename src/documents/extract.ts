// Text extraction, one function per format: PDF through unpdf (pdf.js, page by page), DOCX through mammoth
// (to HTML, so headings survive as "# " lines), HTML by a small converter (block tags become paragraphs,
// h1–h6 headings), CSV as one "column: value" paragraph per row, Markdown and text as they are. A file that
// cannot be read throws document_unreadable with the reason; the indexer records it and goes on.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { WestfallError } from '../errors.js';
import { EXTENSIONS, type DocumentKind, type ExtractedPage } from './types.js';

export function kindOf(file: string): DocumentKind | null {
  return EXTENSIONS[path.extname(file).toLowerCase()] ?? null;
}

function unreadable(file: string, reason: string, cause?: unknown): WestfallError {
  return new WestfallError('document_unreadable', `${path.basename(file)}: ${reason}`, { details: { path: file, reason }, ...(cause ? { cause } : {}) });
}

export async function extractFile(file: string, data?: Buffer): Promise<ExtractedPage[]> {
  const kind = kindOf(file);
  if (!kind) throw unreadable(file, `unsupported file type ${path.extname(file) || '(none)'}`);
  const bytes = data ?? (await readFile(file));
  let pages: ExtractedPage[];
  try {
    pages = await extractBytes(kind, bytes);
  } catch (err) {
    if (err instanceof WestfallError) throw err;
    throw unreadable(file, `not a readable ${kind.toUpperCase()} file (${(err as Error).message})`, err);
  }
  if (pages.every((p) => p.text.trim() === '')) throw unreadable(file, kind === 'pdf' ? 'no text in the file (a scanned PDF needs OCR, which is not done)' : 'the file has no text');
  return pages;
}

export async function extractBytes(kind: DocumentKind, bytes: Buffer): Promise<ExtractedPage[]> {
  switch (kind) {
    case 'pdf':
      return extractPdf(bytes);
    case 'docx': {
      const mammoth = (await import('mammoth')).default;
      const { value } = await mammoth.convertToHtml({ buffer: bytes });
      return [{ page: null, text: htmlToText(value) }];
    }
    case 'html':
      return [{ page: null, text: htmlToText(decodeText(bytes)) }];
    case 'csv':
      return [{ page: null, text: csvToText(decodeText(bytes)) }];
    case 'markdown':
    case 'text':
      return [{ page: null, text: normalize(decodeText(bytes)) }];
  }
}

async function extractPdf(bytes: Buffer): Promise<ExtractedPage[]> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  const doc = await getDocumentProxy(new Uint8Array(bytes));
  try {
    const { text } = await extractText(doc, { mergePages: false });
    return text.map((t, i) => ({ page: i + 1, text: normalize(t) }));
  } finally {
    await doc.destroy();
  }
}

function decodeText(bytes: Buffer): string {
  const s = bytes.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Line endings to \n, trailing spaces off, three or more blank lines down to one. */
export function normalize(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** HTML to paragraphs: headings become "#"-lines (the chunker's sections), block tags blank lines. */
export function htmlToText(html: string): string {
  let s = html.replace(/<(script|style|head|template)\b[\s\S]*?<\/\1>/gi, '').replace(/<!--[\s\S]*?-->/g, '');
  s = s.replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1>/gi, (_m, level: string, inner: string) => `\n\n${'#'.repeat(Number(level))} ${inner.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()}\n\n`);
  s = s.replace(/<br\s*\/?>/gi, '\n');
  s = s.replace(/<\/?(p|div|section|article|li|ul|ol|table|tr|blockquote|pre|header|footer|main|nav|aside|figure|dl|dt|dd)\b[^>]*>/gi, '\n\n');
  s = s.replace(/<\/?(td|th)\b[^>]*>/gi, ' ');
  s = s.replace(/<[^>]+>/g, '');
  s = decodeEntities(s);
  return normalize(s.replace(/[ \t]+/g, ' ').replace(/\n /g, '\n'));
}

/** One paragraph per row ("name: Ada; year: 1843"), so a row is found by any of its values. */
export function csvToText(text: string): string {
  const rows = parseCsv(text, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  if (rows.length === 0) return '';
  const [header, ...body] = rows;
  if (body.length === 0) return header!.join(', ');
  return body.map((r) => r.map((v, i) => `${header![i] ?? `column ${i + 1}`}: ${v}`).join('; ')).join('\n\n');
}
