// Reading tool calls out of model output: the calls llama.cpp's chat parser found in a model's own format
// (their arguments are JSON text), and JSON mode's reply (tool-format.ts), whose answer text also streams
// as it is generated.
import { randomUUID } from 'node:crypto';
import type { ParsedToolCall } from '../engine/index.js';

export interface ParsedCall {
  id: string;
  name: string;
  arguments: unknown;
}

export interface ParsedOutput {
  /** Text for the user (the answer, or text before the calls). */
  content: string;
  calls: ParsedCall[];
  /** Calls that could not be read (bad JSON, no name): reported back to the model. */
  invalid: { raw: string; error: string }[];
}

export function newCallId(): string {
  return `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

/** The calls of a parsed native reply; arguments that are not a JSON object are reported, not run. */
export function readNativeCalls(calls: readonly ParsedToolCall[]): { calls: ParsedCall[]; invalid: { raw: string; error: string }[] } {
  const out: { calls: ParsedCall[]; invalid: { raw: string; error: string }[] } = { calls: [], invalid: [] };
  for (const c of calls) {
    if (!c.name) {
      out.invalid.push({ raw: c.arguments, error: 'the call has no name' });
      continue;
    }
    let args: unknown = {};
    if (c.arguments.trim() !== '') {
      try {
        args = JSON.parse(c.arguments);
      } catch (err) {
        out.invalid.push({ raw: `${c.name}(${c.arguments})`, error: `the arguments are not valid JSON: ${(err as Error).message}` });
        continue;
      }
    }
    out.calls.push({ id: c.id || newCallId(), name: c.name, arguments: args });
  }
  return out;
}

/** One JSON-mode call: {"tool": name, "arguments": {...}} (a "name" key or "parameters" are read too). */
function readCall(raw: string): ParsedCall | { error: string } {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch (err) {
    return { error: `not valid JSON: ${(err as Error).message}` };
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return { error: 'a tool call must be a JSON object' };
  const o = obj as Record<string, unknown>;
  const name = o.tool ?? o.name;
  if (typeof name !== 'string' || name === '') return { error: 'the call has no "tool"' };
  let args = o.arguments ?? o.parameters ?? {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      return { error: 'arguments is a string that is not JSON' };
    }
  }
  return { id: newCallId(), name, arguments: args };
}

/** Reads a JSON-mode reply (tool-format.ts): an answer, a call, or what could not be read. */
export function parseJsonModeOutput(text: string): ParsedOutput {
  const out: ParsedOutput = { content: '', calls: [], invalid: [] };
  const trimmed = text.trim();
  let obj: unknown;
  try {
    obj = JSON.parse(trimmed);
  } catch {
    if (trimmed.startsWith('{"tool"') || /^\{\s*"tool"/.test(trimmed)) {
      out.invalid.push({ raw: trimmed, error: 'the tool call is not complete JSON' });
    } else {
      // Not JSON at all (an unconstrained answer) or a cut-off answer: take what can be read.
      out.content = /^\{\s*"answer"/.test(trimmed) ? decodePartialAnswer(trimmed) : trimmed;
    }
    return out;
  }
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    const o = obj as Record<string, unknown>;
    if (typeof o.answer === 'string') {
      out.content = o.answer;
      return out;
    }
    const c = readCall(trimmed);
    if ('error' in c) out.invalid.push({ raw: trimmed, error: c.error });
    else out.calls.push(c);
    return out;
  }
  out.content = trimmed;
  return out;
}

function decodePartialAnswer(text: string): string {
  const s = new JsonAnswerStream();
  return s.push(text);
}

/**
 * Incremental decoder of the "answer" string of a JSON-mode reply: feed it the generated text chunk by
 * chunk; it returns the newly decoded answer text (empty while the reply is not, or not yet, an answer).
 */
export class JsonAnswerStream {
  #buf = '';
  #pos = -1; // index in #buf just after the opening quote of the answer; -1 before it is found
  #done = false;
  #rejected = false;

  push(chunk: string): string {
    if (this.#done || this.#rejected) return '';
    this.#buf += chunk;
    if (this.#pos < 0) {
      const m = /^\s*\{\s*"answer"\s*:\s*"/.exec(this.#buf);
      if (!m) {
        // Still possibly a prefix of the answer opening? Otherwise it is a tool call (or garbage).
        if (!'{"answer":"'.startsWith(this.#buf.replace(/\s+/g, ''))) this.#rejected = true;
        return '';
      }
      this.#pos = m[0].length;
    }
    let out = '';
    let i = this.#pos;
    while (i < this.#buf.length) {
      const c = this.#buf[i]!;
      if (c === '"') {
        this.#done = true;
        i++;
        break;
      }
      if (c === '\\') {
        if (i + 1 >= this.#buf.length) break; // wait for the escaped character
        const e = this.#buf[i + 1]!;
        if (e === 'u') {
          if (i + 6 > this.#buf.length) break;
          const code = Number.parseInt(this.#buf.slice(i + 2, i + 6), 16);
          out += Number.isNaN(code) ? '' : String.fromCharCode(code);
          i += 6;
          continue;
        }
        out += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/' } as Record<string, string>)[e] ?? e;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    this.#pos = i;
    return out;
  }
}
