// One plain reply over the WebSocket stream: reasoning and token messages grow the reply's thinking and
// answer, `done` brings the stop reason, statistics and any format warning. Also the per-frame batching of
// re-renders that streamed text needs.
import type { ChatStreamRequest, StreamHandle } from '../api/chat-socket.js';
import type { WsDoneMessage } from '../api/types.js';
import { api } from '../store.js';
import { addAnswer, addReasoning, endThinking, explainError, type MessageItem } from './chat-items.js';

/** Runs `fn` at most once per animation frame, however often it is asked for. */
export class FrameBatch {
  readonly #fn: () => void;
  #frame: number | null = null;

  constructor(fn: () => void) {
    this.#fn = fn;
  }

  request(): void {
    if (this.#frame !== null) return;
    const flush = () => {
      if (this.#frame === null) return;
      cancelAnimationFrame(this.#frame);
      clearTimeout(fallback);
      this.#frame = null;
      this.#fn();
    };
    // rAF does not run in a hidden window; the timeout keeps the text coming there.
    const fallback = setTimeout(flush, 120);
    this.#frame = requestAnimationFrame(flush);
  }
}

export interface StreamHost {
  /** Re-renders soon (streamed text). */
  touch(): void;
  /** Re-renders now (the reply ended). */
  changed(): void;
  /** The request in flight (for stop), or null once it ended. */
  setHandle(handle: StreamHandle | null): void;
}

/** Streams the reply into `reply`; resolves once it ended, however it ended (its `error` says if it failed). */
export function streamReply(request: ChatStreamRequest, reply: MessageItem, host: StreamHost): Promise<void> {
  return new Promise<void>((resolve) => {
    const finish = (patch: Partial<MessageItem>) => {
      endThinking(reply);
      Object.assign(reply, patch, { streaming: false });
      host.changed();
      host.setHandle(null);
      resolve();
    };
    api()
      .chat.start(request, {
        onToken: (t) => {
          addAnswer(reply, t);
          host.touch();
        },
        onReasoning: (t) => {
          addReasoning(reply, t);
          host.touch();
        },
        onDone: (d: WsDoneMessage) =>
          finish({
            stopReason: d.stopReason,
            warning: d.warning ?? null,
            dropped: d.droppedMessages ?? null,
            stats: {
              completionTokens: d.usage.completionTokens,
              tokensPerSecond: d.timings.generationTokensPerSecond,
              timeToFirstTokenMs: d.timings.timeToFirstTokenMs,
            },
          }),
        onError: (e) => finish({ error: explainError(e.code, e.message) }),
      })
      .then(
        (h) => host.setHandle(h),
        (err: Error) => finish({ error: err.message }),
      );
  });
}
