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

  /** A one-shot parse of a whole reply. */
  parse(text: string): { message: ParsedMessage; warning: string | null } {
    const r = callNative(() => this.#parser.parse(text, false));
    return { message: r.message, warning: r.error ?? null };
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
    const { message, warning } = this.parse(this.#text);
    const deltas = this.#diff(message, true);
    // Ids for calls whose header was never streamed (the whole call came in the last piece).
    message.toolCalls = message.toolCalls.map((c, i) => ({ ...c, id: this.#calls[i]?.id ?? (c.id || newCallId()) }));
    return { message, deltas, warning };
  }

  #diff(m: ParsedMessage, final: boolean): ChatDelta[] {
    const out: ChatDelta[] = [];
    if (m.reasoning.length > this.#sentReasoning.length && m.reasoning.startsWith(this.#sentReasoning)) {
      out.push({ type: 'reasoning', text: m.reasoning.slice(this.#sentReasoning.length) });
      this.#sentReasoning = m.reasoning;
    }
    if (m.content.length > this.#sentContent.length && m.content.startsWith(this.#sentContent)) {
      out.push({ type: 'content', text: m.content.slice(this.#sentContent.length) });
      this.#sentContent = m.content;
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
      if (sent.headerSent && c.arguments.length > sent.args.length && c.arguments.startsWith(sent.args)) {
        out.push({ type: 'tool_call', index, arguments: c.arguments.slice(sent.args.length) });
        sent.args = c.arguments;
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
