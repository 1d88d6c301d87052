// Reads one generated reply, as it streams and at its end, in either tool mode (tool-format.ts): the
// model's own format through llama.cpp's chat parser (thinking, answer, calls), or JSON mode. The agent
// loop and /v1/chat/completions both read replies through this, so they stream and end alike.
import { ChatOutputParser, type ChatDelta, type ChatFormat, type ParsedToolCall } from '../engine/index.js';
import { JsonAnswerStream, parseJsonModeOutput, readNativeCalls, type ParsedCall } from './tool-calls.js';
import type { ToolMode } from './tool-format.js';

export interface ReadReply {
  content: string;
  reasoning: string;
  calls: ParsedCall[];
  /** Calls that could not be read (arguments that are not JSON, a call cut off by max_tokens). */
  invalid: { raw: string; error: string }[];
  /** The output did not follow the model's format; it is returned as plain content. */
  warning: string | null;
}

export class ReplyReader {
  readonly mode: ToolMode;
  readonly #native: ChatOutputParser | null;
  readonly #json: JsonAnswerStream | null;
  #text = '';
  /** A remote server's reply arrives already read (deltas): it is gathered here instead of parsed. */
  #structured: { content: string; reasoning: string; calls: ParsedToolCall[] } | null = null;

  /** `format` is the chat format the reply was generated in (from the generation); null for raw text. */
  constructor(mode: ToolMode, format: ChatFormat | null, options: { reasoningInContent?: boolean } = {}) {
    this.mode = mode;
    this.#native = mode === 'native' && format ? new ChatOutputParser(format, options) : null;
    this.#json = mode === 'json' ? new JsonAnswerStream() : null;
  }

  /**
   * What to show for the next piece of the reply. `deltas`: the piece as a remote server sent it
   * (content, reasoning_content, tool_calls pieces; src/providers), taken as they are.
   */
  push(text: string, deltas?: readonly ChatDelta[] | null): ChatDelta[] {
    if (deltas) return this.#gather(deltas);
    this.#text += text;
    if (this.#native) return this.#native.push(text);
    if (this.#json) {
      const shown = this.#json.push(text);
      return shown ? [{ type: 'content', text: shown }] : [];
    }
    return text ? [{ type: 'content', text }] : [];
  }

  #gather(deltas: readonly ChatDelta[]): ChatDelta[] {
    const s = (this.#structured ??= { content: '', reasoning: '', calls: [] });
    for (const d of deltas) {
      if (d.type === 'content') s.content += d.text;
      else if (d.type === 'reasoning') s.reasoning += d.text;
      else {
        const call = (s.calls[d.index] ??= { id: '', name: '', arguments: '' });
        if (d.id) call.id = d.id;
        if (d.name) call.name += d.name;
        if (d.arguments) call.arguments += d.arguments;
      }
    }
    return [...deltas];
  }

  /** The whole reply, and the deltas not streamed yet (JSON mode streams only its answer). */
  finish(): { reply: ReadReply; deltas: ChatDelta[] } {
    if (this.#structured) {
      const s = this.#structured;
      const { calls, invalid } = readNativeCalls(s.calls.filter(Boolean));
      const unread = invalid.length > 0 ? `tool calls that could not be read were left out: ${invalid.map((i) => i.error).join('; ')}` : null;
      return { reply: { content: s.content, reasoning: s.reasoning, calls, invalid, warning: unread }, deltas: [] };
    }
    if (this.#native) {
      const { message, deltas, warning } = this.#native.finish();
      const { calls, invalid } = readNativeCalls(message.toolCalls);
      const unread = invalid.length > 0 ? `tool calls that could not be read were left out: ${invalid.map((i) => i.error).join('; ')}` : null;
      return { reply: { content: message.content, reasoning: message.reasoning, calls, invalid, warning: warning ?? unread }, deltas };
    }
    if (this.#json) {
      const parsed = parseJsonModeOutput(this.#text);
      // A JSON-mode call is only known once the reply is complete: it streams whole, at the end.
      const deltas: ChatDelta[] = parsed.calls.flatMap((c, index): ChatDelta[] => [
        { type: 'tool_call', index, id: c.id, name: c.name },
        { type: 'tool_call', index, arguments: JSON.stringify(c.arguments ?? {}) },
      ]);
      return { reply: { content: parsed.content, reasoning: '', calls: parsed.calls, invalid: parsed.invalid, warning: null }, deltas };
    }
    return { reply: { content: this.#text, reasoning: '', calls: [], invalid: [], warning: null }, deltas: [] };
  }
}
