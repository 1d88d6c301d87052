// /api/tools and /api/agent: the tool declarations (with the JSON schemas the model sees), direct
// invocation by the app, and the tool-calling chat: POST /api/agent/chat streams the agent's events as
// Server-Sent Events (token, tool_call, confirmation_required, tool_result, invalid_tool_call, done, or
// error), and the app answers confirmation requests at /api/agent/confirmations/:id.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ConversationStore } from '../../storage/index.js';
import { managerBackend, runAgent, type AgentBackend, type AgentEvent, type AgentOptions, type ManagerLike } from '../../tools/agent.js';
import type { Confirmations } from '../../tools/confirmations.js';
import { ToolError } from '../../tools/errors.js';
import type { AnyTool, ToolRegistry } from '../../tools/registry.js';
import { errorBody, parseWith, toErrorInfo } from '../errors.js';
import { namedModelBackend } from '../agent-model.js';
import type { ModelManager } from '../model-manager.js';
import { modelNameSchema } from '../schemas.js';
import { defined, eventStreams, uuidParams } from './tool-helpers.js';

export interface ToolRoutesOptions {
  registry: ToolRegistry;
  conversations: ConversationStore;
  confirmations: Confirmations;
  /** The server's model manager (from createApp). */
  manager?: unknown;
  /** Runs the agent on this backend instead of the manager (tests, embedding). */
  agentBackend?: AgentBackend;
  heartbeatMs?: number;
  /**
   * More tools for one chat (the MCP servers it uses, src/mcp), fetched when a turn starts; `problems`
   * (a server that did not start, a tool whose schema was refused) are sent as an `mcp_problems` event.
   */
  extraTools?: (conversationId: string | undefined) => Promise<{ tools: AnyTool[]; problems: unknown[] }>;
}

const messageSchema = z.object({ role: z.enum(['system', 'user']), content: z.string().min(1).max(1_000_000) }).strict();
const chatBody = z
  .object({
    conversationId: z.string().min(1).max(100).optional(),
    /** The model to run on (GET /v1/models); absent: the default model. */
    model: modelNameSchema.optional(),
    message: z.string().min(1).max(1_000_000).optional(),
    messages: z.array(messageSchema).min(1).max(100).optional(),
    tools: z.array(z.string().min(1).max(64)).max(200).optional(),
    toolChoice: z.union([z.enum(['auto', 'required', 'none']), z.object({ name: z.string().min(1).max(64) }).strict()]).optional(),
    mode: z.enum(['auto', 'native', 'json']).optional(),
    thinking: z
      .object({ enabled: z.boolean().optional(), budget: z.number().int().min(0).max(1 << 20).nullable().optional() })
      .strict()
      .optional(),
    maxSteps: z.number().int().min(1).max(20).optional(),
    systemPrompt: z.string().max(100_000).optional(),
    params: z
      .object({
        maxTokens: z.number().int().min(1).max(32_768).optional(),
        temperature: z.number().min(0).max(5).optional(),
        topK: z.number().int().min(0).optional(),
        topP: z.number().gt(0).max(1).optional(),
        seed: z.number().int().min(0).max(0xffffffff).optional(),
      })
      .strict()
      .optional(),
    stream: z.boolean().default(true),
  })
  .strict()
  .refine((b) => (b.message === undefined) !== (b.messages === undefined), { message: 'give either message or messages', path: ['message'] });

const toolRoutes: FastifyPluginAsync<ToolRoutesOptions> = async (app, opts) => {
  const { registry, conversations, confirmations } = opts;
  const streams = eventStreams(app, defined({ heartbeatMs: opts.heartbeatMs }));
  const backend = (): AgentBackend => opts.agentBackend ?? managerBackend(opts.manager as ManagerLike | undefined);

  app.get('/api/tools', async () => ({ tools: registry.describe() }));

  // The app calls a tool itself (the user is acting, so no confirmation is asked).
  app.post('/api/tools/:name/invoke', async (req) => {
    const { name } = parseWith(z.object({ name: z.string().min(1).max(64) }), req.params, 'parameters');
    const body = parseWith(z.object({ arguments: z.record(z.string(), z.unknown()).default({}) }).strict(), req.body ?? {});
    return { tool: name, result: await registry.invoke(name, body.arguments, { caller: 'user' }) };
  });

  app.get('/api/agent/confirmations', async () => ({ confirmations: confirmations.list() }));
  app.post('/api/agent/confirmations/:id', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    const body = parseWith(z.object({ approved: z.boolean(), arguments: z.record(z.string(), z.unknown()).optional() }).strict(), req.body);
    // Arguments the user edited must be runnable: a 400 naming the fields lets them fix it and answer again.
    const name = confirmations.get(id).call.name;
    if (body.approved && body.arguments && registry.has(name)) registry.parseRunnable(name, body.arguments);
    const request = confirmations.answer(id, body.approved, body.arguments);
    return { id, approved: body.approved, call: request.call };
  });

  app.post('/api/agent/chat', async (req, reply) => {
    const body = parseWith(chatBody, req.body);
    const b = body.model && !opts.agentBackend && opts.manager ? await namedModelBackend(opts.manager as ModelManager, body.model) : backend();
    b.model(); // no model → 503 model_not_loaded before any stream opens
    if (body.conversationId) conversations.get(body.conversationId); // unknown → 404
    const extra = opts.extraTools ? await opts.extraTools(body.conversationId) : null;
    const chatRegistry = extra && extra.tools.length > 0 ? registry.extend(extra.tools) : registry;
    if (body.tools) for (const t of body.tools) chatRegistry.get(t); // unknown → 404 tool_not_found
    if (typeof body.toolChoice === 'object') {
      chatRegistry.get(body.toolChoice.name);
      if (body.tools && !body.tools.includes(body.toolChoice.name)) throw new ToolError('invalid_params', `toolChoice ${body.toolChoice.name} is not among the offered tools`);
    }
    const abort = new AbortController();
    const options: AgentOptions = {
      backend: b,
      registry: chatRegistry,
      store: conversations,
      messages: body.message !== undefined ? [{ role: 'user', content: body.message }] : body.messages!,
      confirm: confirmations.confirmer(abort.signal),
      signal: abort.signal,
      ...defined({
        conversationId: body.conversationId,
        tools: body.tools,
        toolChoice: body.toolChoice,
        mode: body.mode,
        thinking: body.thinking ? defined(body.thinking) : undefined,
        maxSteps: body.maxSteps,
        systemPrompt: body.systemPrompt,
        params: body.params ? defined(body.params) : undefined,
      }),
    };

    if (!body.stream) {
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const events: AgentEvent[] = [];
      const it = runAgent(options);
      for (;;) {
        const n = await it.next();
        if (n.done) return { ...n.value, events: events.filter((e) => e.type !== 'token' && e.type !== 'reasoning'), ...(extra?.problems.length ? { mcpProblems: extra.problems } : {}) };
        events.push(n.value);
      }
    }

    const stream = streams.open(req, reply, () => abort.abort());
    if (extra?.problems.length) stream.send('mcp_problems', { problems: extra.problems });
    try {
      for await (const event of runAgent(options)) {
        if (stream.closed) break;
        stream.send(event.type, event);
      }
    } catch (err) {
      const info = toErrorInfo(err);
      if (info.internal) req.log.error({ err }, 'agent run failed');
      stream.send('error', errorBody(info));
    } finally {
      stream.end();
    }
    return reply;
  });
};

export default toolRoutes;
export { toolRoutes };
