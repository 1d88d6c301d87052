// A model's own chat format, as llama.cpp's chat layer (common/chat.h) decides it: the template handler
// that renders a request also says how the reply is constrained (a tool-call grammar, lazy until the
// model starts a call), which special tokens belong to the format, where thinking starts and ends, and
// how the output is read back. This file only carries those results: the formats themselves, their
// grammars and parsers all live in llama.cpp.
import { WestfallError } from '../errors.js';
import { callNative, native, type NativeChatFormat, type NativeChatParser } from './native.js';

export type ReasoningFormat = 'none' | 'auto' | 'deepseek' | 'deepseek-legacy';
export const REASONING_FORMATS: readonly ReasoningFormat[] = ['none', 'auto', 'deepseek', 'deepseek-legacy'];

/** What a chat request asks of the template (OpenAI's fields, as llama-server reads them). */
export interface ChatFormatOptions {
  /** OpenAI function tools, rendered in the model's own tool format. */
  tools?: unknown[];
  /** auto (answer or call), none (answer), required (call). A named function: pass only that tool + required. */
  toolChoice?: 'auto' | 'none' | 'required';
  parallelToolCalls?: boolean;
  /** A JSON schema the answer must follow (after any thinking). */
  jsonSchema?: unknown;
  /** Where thinking goes: `none` leaves it in the content; the others extract it (default auto). */
  reasoningFormat?: ReasoningFormat;
  /** Thinking on or off, for templates that can switch it (default on). */
  enableThinking?: boolean;
  /** Extra variables for the template (e.g. { reasoning_effort: 'low' }). */
  chatTemplateKwargs?: Record<string, unknown>;
  addGenerationPrompt?: boolean;
}

export interface GrammarTrigger {
  type: 'word' | 'token' | 'pattern' | 'pattern_full';
  value: string;
}

/** The template handler's decisions for one request (everything but the prompt). */
export interface ChatFormat {
  /** llama.cpp's name of the format (e.g. "peg-native"). */
  name: string;
  id: number;
  /** GBNF for tool calls or the JSON schema; null when the reply is free. */
  grammar: string | null;
  /** The grammar applies only once a trigger appears (the model may answer instead of calling). */
  grammarLazy: boolean;
  grammarTriggers: GrammarTrigger[];
  /** Special tokens that are part of the format and must reach the parser as text. */
  preservedTokens: string[];
  additionalStops: string[];
  /** What the template already wrote of the assistant's turn (e.g. "<think>\n"). */
  generationPrompt: string;
  supportsThinking: boolean;
  thinkingStartTag: string;
  thinkingEndTags: string[];
  /** The serialized output parser. */
  parser: string;
  reasoningFormat: ReasoningFormat;
}

export function toChatFormat(r: NativeChatFormat, reasoningFormat: ReasoningFormat): ChatFormat {
  return {
    name: r.format,
    id: r.formatId,
    grammar: r.grammar || null,
    grammarLazy: r.grammarLazy,
    grammarTriggers: r.grammarTriggers as GrammarTrigger[],
    preservedTokens: r.preservedTokens,
    additionalStops: r.additionalStops,
    generationPrompt: r.generationPrompt,
    supportsThinking: r.supportsThinking,
    thinkingStartTag: r.thinkingStartTag,
    thinkingEndTags: r.thinkingEndTags,
    parser: r.parser,
    reasoningFormat,
  };
}

/** A cap on thinking: at most `tokens` between the thinking tags, then the end tag is forced. */
export interface ReasoningBudget {
  tokens: number;
  /** Written before the forced end tag (e.g. "Time to answer."). */
  message?: string;
}

/**
 * The generation parameters that make the engine follow a format: the grammar (lazy with its triggers),
 * the preserved tokens, the prefill that advances the grammar and the budget past what the template
 * wrote, and the reasoning budget when one is asked for and the format has thinking tags.
 */
const UNLIMITED_THINKING = 1 << 20;

export function formatGenerateParams(format: ChatFormat, budget?: ReasoningBudget | null): FormatGenerateParams {
  const out: FormatGenerateParams = {
    preservedTokens: format.preservedTokens,
    generationPrompt: format.generationPrompt,
  };
  if (format.grammar) {
    out.grammar = format.grammar;
    out.grammarLazy = format.grammarLazy;
    out.grammarTriggers = format.grammarTriggers;
    out.grammarPrefill = !format.grammarLazy;
  }
  // As llama.cpp does: with a lazy grammar, a budget (unlimited unless asked) tracks the thinking block,
  // so that a trigger word the model thinks about does not start a call.
  const tracked = budget ?? (format.grammarLazy ? { tokens: UNLIMITED_THINKING } : null);
  if (tracked && format.thinkingEndTags.length > 0 && format.thinkingStartTag) {
    out.reasoningBudget = {
      tokens: tracked.tokens,
      startTag: format.thinkingStartTag,
      endTags: format.thinkingEndTags,
      ...(tracked.message ? { message: tracked.message } : {}),
    };
  }
  return out;
}

export interface FormatGenerateParams {
  grammar?: string;
  grammarLazy?: boolean;
  grammarTriggers?: GrammarTrigger[];
  grammarPrefill?: boolean;
  preservedTokens?: string[];
  generationPrompt?: string;
  reasoningBudget?: { tokens: number; startTag: string; endTags: string[]; message?: string };
}

// ---------------------------------------------------------------------------------------------------
// Reading the output back

export interface ParsedToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them (JSON text). */
  arguments: string;
}

export interface ParsedMessage {
  content: string;
  reasoning: string;
  toolCalls: ParsedToolCall[];
}

/** One streamed change: thinking text, answer text, or a tool call's start (id, name) or argument text. */
export type ChatDelta =
  | { type: 'reasoning'; text: string }
  | { type: 'content'; text: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments?: string };

export interface FinishedMessage {
  message: ParsedMessage;
  /** The deltas not streamed yet. */
  deltas: ChatDelta[];
  /** Set when the output did not follow the format: the text is then returned as plain content. */
  warning: string | null;
}

/**
 * JSON text without the whitespace between tokens (strings untouched). Formats' parsers hand partial
 * arguments over as written but may re-serialize complete ones, so streamed fragments and the final
 * arguments are compared, and sent, in this one spelling; it also works on a partial text.
 */
export function minifyJsonText(text: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch !== ' ' && ch !== '\n' && ch !== '\t' && ch !== '\r') {
      out += ch;
    }
  }
  return out;
}

let callCounter = 0;
function newCallId(): string {
  callCounter = (callCounter + 1) % 1e9;
  return `call_${Date.now().toString(36)}${callCounter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Reads a reply in its format while it streams: each push re-parses the text so far (partially) and
 * returns what was added. A tool call's name goes out once it is complete (when its arguments begin, or
 * at the end), its arguments as fragments; a half-written call is never shown as text.
 */
export class ChatOutputParser {
  readonly format: ChatFormat;
  readonly #parser: NativeChatParser;
  #text = '';
  #sentReasoning = '';
  #sentContent = '';
  #calls: { id: string; name: string; headerSent: boolean; args: string }[] = [];

  constructor(format: ChatFormat, options: { parseToolCalls?: boolean; reasoningInContent?: boolean } = {}) {
    this.format = format;
    this.#parser = callNative(() =>
      native().createChatParser({
        formatId: format.id,
        parser: format.parser,
        generationPrompt: format.generationPrompt,
        reasoningFormat: format.reasoningFormat,
        reasoningInContent: options.reasoningInContent ?? false,
        parseToolCalls: options.parseToolCalls ?? true,
      }),
    );
  }

  /**
   * A one-shot parse of a whole reply. Output that does not complete its format (a small model's slip,
   * a reply cut off by max_tokens) is read as far as it goes, as while streaming, and only output that
   * cannot be read at all is plain content; either way `warning` says why.
   */
  parse(text: string): { message: ParsedMessage; warning: string | null } {
    const spelled = (m: ParsedMessage): ParsedMessage => ({ ...m, toolCalls: m.toolCalls.map((c) => ({ ...c, arguments: minifyJsonText(c.arguments) })) });
    const r = callNative(() => this.#parser.parse(text, false));
    if (!r.error) return { message: spelled(r.message), warning: null };
    const partial = callNative(() => this.#parser.parse(text, true));
    const m = partial.message;
    const read = !partial.error && (m.content !== '' || m.reasoning !== '' || m.toolCalls.length > 0);
    return { message: spelled(read ? m : r.message), warning: r.error };
  }

  /** The deltas for `text`, the next piece of the reply. */
  push(text: string): ChatDelta[] {
    if (text === '') return [];
    this.#text += text;
    const r = callNative(() => this.#parser.parse(this.#text, true));
    // A partial text that does not parse yet keeps what was sent: the next tokens may complete it.
    if (r.error) return [];
    return this.#diff(r.message, false);
  }

  /** At the end: the final message (a one-shot parse of the whole text) and what was not streamed yet. */
  finish(): FinishedMessage {
    let { message, warning } = this.parse(this.#text);
    // Output that stopped matching its format after parts of it were shown: the reply is what was shown
    // (a client cannot take back a delta), and the warning says the rest could not be read.
    if (warning && this.#streamedAnything() && !this.#extends(message)) message = this.#sentMessage();
    const deltas = this.#diff(message, true);
    // Ids for calls whose header was never streamed (the whole call came in the last piece).
    message.toolCalls = message.toolCalls.map((c, i) => ({ ...c, id: this.#calls[i]?.id ?? (c.id || newCallId()) }));
    return { message, deltas, warning };
  }

  #streamedAnything(): boolean {
    return this.#sentReasoning !== '' || this.#sentContent !== '' || this.#calls.some((c) => c.headerSent);
  }

  /** Whether `m` only adds to what was streamed. */
  #extends(m: ParsedMessage): boolean {
    if (!m.reasoning.startsWith(this.#sentReasoning) || !m.content.startsWith(this.#sentContent)) return false;
    return this.#calls.every((c, i) => !c.headerSent || (m.toolCalls[i]?.name === c.name && minifyJsonText(m.toolCalls[i]!.arguments).startsWith(c.args)));
  }

  #sentMessage(): ParsedMessage {
    return {
      reasoning: this.#sentReasoning,
      content: this.#sentContent,
      toolCalls: this.#calls.filter((c) => c.headerSent).map((c) => ({ id: c.id, name: c.name, arguments: c.args })),
    };
  }

  #diff(m: ParsedMessage, final: boolean): ChatDelta[] {
    const out: ChatDelta[] = [];
    // While streaming, trailing whitespace waits: the final parse may trim it.
    const reasoning = final ? m.reasoning : m.reasoning.trimEnd();
    const content = final ? m.content : m.content.trimEnd();
    if (reasoning.length > this.#sentReasoning.length && reasoning.startsWith(this.#sentReasoning)) {
      out.push({ type: 'reasoning', text: reasoning.slice(this.#sentReasoning.length) });
      this.#sentReasoning = reasoning;
    }
    if (content.length > this.#sentContent.length && content.startsWith(this.#sentContent)) {
      out.push({ type: 'content', text: content.slice(this.#sentContent.length) });
      this.#sentContent = content;
    }
    m.toolCalls.forEach((c, index) => {
      let sent = this.#calls[index];
      if (!sent) {
        sent = { id: c.id || newCallId(), name: '', headerSent: false, args: '' };
        this.#calls[index] = sent;
      }
      // The name may still be growing until its arguments begin, a later call starts, or the reply ends.
      const nameDone = c.arguments.length > 0 || index < m.toolCalls.length - 1 || final;
      if (!sent.headerSent && c.name && nameDone) {
        sent.headerSent = true;
        sent.name = c.name;
        out.push({ type: 'tool_call', index, id: sent.id, name: c.name });
      }
      const args = minifyJsonText(c.arguments);
      if (sent.headerSent && args.length > sent.args.length && args.startsWith(sent.args)) {
        out.push({ type: 'tool_call', index, arguments: args.slice(sent.args.length) });
        sent.args = args;
      }
    });
    return out;
  }
}

/** Folds deltas into a message, as a client of the stream would. */
export function applyDeltas(deltas: readonly ChatDelta[], into: ParsedMessage = { content: '', reasoning: '', toolCalls: [] }): ParsedMessage {
  for (const d of deltas) {
    if (d.type === 'reasoning') into.reasoning += d.text;
    else if (d.type === 'content') into.content += d.text;
    else {
      const call = (into.toolCalls[d.index] ??= { id: '', name: '', arguments: '' });
      if (d.id) call.id = d.id;
      if (d.name) call.name += d.name;
      if (d.arguments) call.arguments += d.arguments;
    }
  }
  return into;
}

export function assertReasoningFormat(value: unknown): ReasoningFormat {
  if (typeof value === 'string' && (REASONING_FORMATS as readonly string[]).includes(value)) return value as ReasoningFormat;
  throw new WestfallError('invalid_params', `reasoning format must be one of ${REASONING_FORMATS.join(', ')}`);
}
