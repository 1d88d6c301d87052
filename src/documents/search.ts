// Hybrid retrieval: BM25 over the FTS5 index and kNN over the collection's vectors, fused by reciprocal
// rank (RRF: score = Σ 1 / (k + rank), k = 60 as in Cormack et al.), which needs no score calibration
// between the two lists. Then the passages for a chat: best first, within a token budget, numbered for
// citations.
import type { SearchHit } from './types.js';

export const RRF_K = 60;

/** Fuses ranked lists of ids (best first); returns ids with their score and 1-based rank in each list. */
export function reciprocalRankFusion(lists: readonly (readonly number[])[], k = RRF_K): { id: number; score: number; ranks: (number | null)[] }[] {
  const byId = new Map<number, { id: number; score: number; ranks: (number | null)[] }>();
  lists.forEach((list, li) => {
    const seen = new Set<number>();
    list.forEach((id, i) => {
      if (seen.has(id)) return;
      seen.add(id);
      let e = byId.get(id);
      if (!e) {
        e = { id, score: 0, ranks: lists.map(() => null) };
        byId.set(id, e);
      }
      e.score += 1 / (k + i + 1);
      e.ranks[li] = i + 1;
    });
  });
  // Ties (same score) go to the id ranked best in any list, then the smaller id: a stable order.
  return [...byId.values()].sort((a, b) => b.score - a.score || bestRank(a.ranks) - bestRank(b.ranks) || a.id - b.id);
}

function bestRank(ranks: readonly (number | null)[]): number {
  return Math.min(...ranks.map((r) => r ?? Infinity));
}

const STOP = new Set(['a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'do', 'does', 'for', 'from', 'how', 'in', 'is', 'it', 'of', 'on', 'or', 'that', 'the', 'this', 'to', 'was', 'what', 'when', 'where', 'which', 'who', 'why', 'with', 'my', 'our', 'your', 'did', 'can']);

/**
 * A user's question as an FTS5 query: its words, quoted (so FTS5 syntax in the text means nothing), joined
 * by OR so BM25 ranks by how many and how rare; common question words left out. '' when nothing is left.
 */
export function ftsQuery(question: string): string {
  const words = question.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  const kept = [...new Set(words.map((w) => w.replace(/['-]+$/, '')).filter((w) => w.length > 1 && !STOP.has(w)))];
  const use = kept.length > 0 ? kept : [...new Set(words)];
  return use.slice(0, 32).map((w) => `"${w.replace(/"/g, '""')}"`).join(' OR ');
}

/** Rough tokens of a text (~4 characters per token for English; the budget is a safety margin, not exact). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface Passage {
  /** The citation number, [n] in the answer. */
  n: number;
  hit: SearchHit;
}

/** The best hits that fit in `budgetTokens` (the first always does, cut if it must), numbered from 1. */
export function selectPassages(hits: readonly SearchHit[], budgetTokens: number): Passage[] {
  const out: Passage[] = [];
  let used = 0;
  for (const hit of hits) {
    const cost = estimateTokens(hit.text) + 20;
    if (used + cost > budgetTokens) {
      if (out.length === 0) out.push({ n: 1, hit: { ...hit, text: hit.text.slice(0, Math.max(0, (budgetTokens - 20) * 4)) } });
      break;
    }
    used += cost;
    out.push({ n: out.length + 1, hit });
  }
  return out;
}

/** The system message that gives the model the passages and asks for [n] citations. */
export function contextMessage(passages: readonly Passage[]): string {
  if (passages.length === 0) return '';
  const blocks = passages.map((p) => {
    const where = [p.hit.fileName, p.hit.page !== null ? `page ${p.hit.page}` : null, p.hit.heading].filter(Boolean).join(', ');
    return `[${p.n}] (${where})\n${p.hit.text}`;
  });
  return (
    "Passages from the user's documents that may answer the next question. Use them when they are relevant, " +
    'and cite each one you use by its number in square brackets, like [1] or [2]. If they do not contain the ' +
    'answer, say so rather than guess.\n\n' +
    blocks.join('\n\n')
  );
}
