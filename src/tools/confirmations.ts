// Pending confirmations of tool calls, answered by the app. The agent's `confirm` callback registers a
// request and waits; the app answers it by id (approve, possibly with arguments the user edited, or
// decline). Unanswered requests are declined after a timeout, or when the run is aborted.
// `describeCall` is what a request shows the user: the call in plain words, and what the form needs.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { notFound } from './errors.js';
import type { ConfirmationAnswer, ConfirmationRequest, ToolCall } from './agent.js';
import type { ToolRegistry } from './registry.js';
import { fillSentence, genericSentence } from './tool-sentence.js';

interface Pending {
  request: ConfirmationRequest;
  resolve: (answer: ConfirmationAnswer) => void;
  timer: NodeJS.Timeout;
}

/**
 * A confirmation request for a call of a registered tool: its sentence (filled from the arguments with
 * their defaults where they are valid, from the raw ones where not), the JSON schema the form is built
 * from, choices from the user's data, and what is missing or wrong.
 */
export function describeCall(registry: ToolRegistry, call: ToolCall, conversationId?: string): ConfirmationRequest {
  const tool = registry.get(call.name);
  const described = registry.describe().find((d) => d.name === call.name)!;
  const problems = registry.problems(call.name, call.arguments);
  let args: unknown = call.arguments;
  if (problems.length === 0) args = registry.parseArguments(call.name, call.arguments);
  let choices = {};
  try {
    choices = tool.choices?.() ?? {};
  } catch {
    // Choices are a convenience (e.g. the vault is locked): the form still works without them.
  }
  const sentence = described.confirm ? fillSentence(described.confirm, args, choices).text : genericSentence(described.title, described.source);
  return {
    id: randomUUID(),
    call,
    tool: { name: tool.name, description: tool.description, title: described.title, source: described.source },
    ...(conversationId ? { conversationId } : {}),
    sentence,
    template: described.confirm,
    parameters: described.parameters,
    choices,
    requiredAny: described.requiredAny,
    problems,
  };
}

export interface ConfirmationsEvents {
  requested: [ConfirmationRequest];
  answered: [{ id: string; approved: boolean; edited: boolean; reason: 'user' | 'timeout' | 'aborted' }];
}

export class Confirmations extends EventEmitter<ConfirmationsEvents> {
  readonly #pending = new Map<string, Pending>();

  constructor(private readonly timeoutMs = 5 * 60_000) {
    super();
  }

  /** A `confirm` callback for runAgent. */
  confirmer(signal?: AbortSignal): (request: ConfirmationRequest) => Promise<ConfirmationAnswer> {
    return (request) => this.wait(request, signal);
  }

  wait(request: ConfirmationRequest, signal?: AbortSignal): Promise<ConfirmationAnswer> {
    return new Promise<ConfirmationAnswer>((resolve) => {
      const settle = (answer: ConfirmationAnswer, reason: 'user' | 'timeout' | 'aborted') => {
        const p = this.#pending.get(request.id);
        if (!p) return;
        clearTimeout(p.timer);
        this.#pending.delete(request.id);
        signal?.removeEventListener('abort', onAbort);
        this.emit('answered', { id: request.id, approved: answer.approved, edited: answer.arguments !== undefined, reason });
        resolve(answer);
      };
      const onAbort = () => settle({ approved: false }, 'aborted');
      const timer = setTimeout(() => settle({ approved: false }, 'timeout'), this.timeoutMs);
      timer.unref();
      this.#pending.set(request.id, { request, resolve: (answer) => settle(answer, 'user'), timer });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.emit('requested', request);
    });
  }

  list(): ConfirmationRequest[] {
    return [...this.#pending.values()].map((p) => p.request);
  }

  /** A waiting request; not_found when there is none with this id. */
  get(id: string): ConfirmationRequest {
    const p = this.#pending.get(id);
    if (!p) throw notFound('confirmation', id);
    return p.request;
  }

  /**
   * The app's answer; not_found when no such request is waiting. `args`: the arguments as the user
   * edited them (they replace the model's, in what runs and in the conversation).
   */
  answer(id: string, approved: boolean, args?: Record<string, unknown>): ConfirmationRequest {
    const p = this.#pending.get(id);
    if (!p) throw notFound('confirmation', id);
    p.resolve(approved && args !== undefined ? { approved, arguments: args } : { approved });
    return p.request;
  }

  /** Declines everything pending (shutdown). */
  clear(): void {
    for (const p of [...this.#pending.values()]) p.resolve({ approved: false });
  }
}
