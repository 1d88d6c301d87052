// Model Context Protocol on the backend (docs/mcp.md).
//   The assistant as an MCP client: /api/mcp/servers (add, import a Claude Desktop / VS Code file, switch
//   on and off, remove, restart, list tools with their checks, "allow always"), per-conversation switches at
//   /api/mcp/chats/:conversationId, and images from tool results at /api/mcp/attachments/:id.
//   The assistant as an MCP server: POST /mcp (streamable HTTP with sessions, behind the same bearer token as
//   the rest of the API; GET for its event stream, DELETE to end a session), which tools are on (/api/mcp/host/tools), the audit list (/api/mcp/host/audit),
//   the app's confirmation stream (/api/mcp/host/confirmations/events: while one is open, calls that change
//   data are asked there; the app answers at /api/agent/confirmations/:id), and /api/mcp/host/confirm for
//   `westfall mcp`, which runs in its own process and asks the running backend.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { WestfallError, notFound } from '../../errors.js';
import { ATTACHMENT_ID_RE, attachmentMime, importMcpServers, parseMcpServersFile, parseServerConfig, SERVER_NAME_RE, type AppPresence, type Mcp } from '../../mcp/index.js';
import type { ConversationStore } from '../../storage/index.js';
import type { ConfirmationRequest } from '../../tools/agent.js';
import type { Confirmations } from '../../tools/confirmations.js';
import { guarded } from '../../tools/errors.js';
import { parseWith } from '../errors.js';
import { eventStreams } from './tool-helpers.js';

export interface McpRoutesOptions {
  mcp: Mcp;
  presence: AppPresence;
  confirmations: Confirmations;
  conversations: ConversationStore;
  heartbeatMs?: number;
}

const nameParams = z.object({ name: z.string().regex(SERVER_NAME_RE, 'a server name is 1-32 lowercase letters, digits, - or _') });
const toolParams = nameParams.extend({ tool: z.string().min(1).max(128) });
const chatParams = z.object({ conversationId: z.string().min(1).max(100) });
const enabledBody = z.object({ enabled: z.boolean() }).strict();
/** MCP sessions over HTTP: at most this many (the oldest idle one gives way), closed after 30 idle minutes. */
const MAX_SESSIONS = 32;
const SESSION_IDLE_MS = 30 * 60_000;

export function mcpRoutes(o: McpRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    const { mcp, presence, confirmations } = o;
    const streams = eventStreams(app, o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {});
    app.addHook('onClose', async () => {
      await mcp.close();
    });

    // -- servers the assistant uses ---------------------------------------------------------------------
    app.get('/api/mcp/servers', async () => ({ servers: mcp.clients.statuses() }));

    app.put('/api/mcp/servers/:name', async (req) => {
      const { name } = parseWith(nameParams, req.params, 'parameters');
      const body = parseWith(z.object({ config: z.unknown(), enabled: z.boolean().default(true) }).strict(), req.body);
      const server = mcp.store.putServer(name, parseServerConfig(body.config), body.enabled);
      await mcp.clients.stop(name); // a changed command starts afresh on next use
      return { server };
    });

    app.post('/api/mcp/servers/import', async (req) => {
      const body = parseWith(
        z
          .object({ text: z.string().max(1_000_000).optional(), path: z.string().min(1).max(4096).optional(), replace: z.boolean().default(false) })
          .strict()
          .refine((b) => (b.text === undefined) !== (b.path === undefined), { message: 'give either text or path', path: ['text'] }),
        req.body,
      );
      let text = body.text;
      if (body.path !== undefined) {
        const file = path.resolve(body.path);
        let size: number;
        try {
          size = statSync(file).size;
        } catch {
          throw new WestfallError('invalid_params', `cannot read ${file}`);
        }
        if (size > 1_000_000) throw new WestfallError('invalid_params', 'the file is larger than 1 MB; an MCP configuration is a few KB');
        text = readFileSync(file, 'utf8');
      }
      const imported = text !== undefined ? parseMcpServersFile(text) : importMcpServers({});
      const existing = new Set(mcp.store.listServers().map((s) => s.name));
      const added: string[] = [];
      const skipped = [...imported.skipped];
      for (const s of imported.servers) {
        if (existing.has(s.name) && !body.replace) {
          skipped.push({ name: s.name, reason: 'a server with this name exists (import with replace to overwrite it)' });
          continue;
        }
        mcp.store.putServer(s.name, s.config, true);
        await mcp.clients.stop(s.name);
        added.push(s.name);
      }
      return { added, skipped };
    });

    app.patch('/api/mcp/servers/:name', async (req) => {
      const { name } = parseWith(nameParams, req.params, 'parameters');
      const { enabled } = parseWith(enabledBody, req.body);
      const server = mcp.store.setServerEnabled(name, enabled);
      if (!enabled) await mcp.clients.stop(name);
      return { server };
    });

    app.delete('/api/mcp/servers/:name', async (req) => {
      const { name } = parseWith(nameParams, req.params, 'parameters');
      mcp.store.deleteServer(name);
      await mcp.clients.stop(name);
      return { deleted: name };
    });

    app.post('/api/mcp/servers/:name/restart', async (req) => {
      const { name } = parseWith(nameParams, req.params, 'parameters');
      mcp.store.getServer(name);
      await mcp.clients.stop(name);
      const r = await mcp.clients.serverTools(name);
      return { name, tools: r.tools, problems: r.problems };
    });

    // Starts the server if needed: its tools as the model will see them, and those refused, with why.
    app.get('/api/mcp/servers/:name/tools', async (req) => {
      const { name } = parseWith(nameParams, req.params, 'parameters');
      const r = await mcp.clients.serverTools(name);
      return { name, tools: r.tools, problems: r.problems };
    });

    app.put('/api/mcp/servers/:name/tools/:tool', async (req) => {
      const { name, tool } = parseWith(toolParams, req.params, 'parameters');
      const { allowAlways } = parseWith(z.object({ allowAlways: z.boolean() }).strict(), req.body);
      mcp.store.setAllowAlways(name, tool, allowAlways);
      return { server: name, tool, allowAlways };
    });

    // -- per conversation -------------------------------------------------------------------------------
    app.get('/api/mcp/chats/:conversationId', async (req) => {
      const { conversationId } = parseWith(chatParams, req.params, 'parameters');
      o.conversations.get(conversationId);
      const choices = mcp.store.chatChoices(conversationId);
      return { servers: mcp.store.listServers().map((s) => ({ name: s.name, enabled: choices[s.name] ?? s.enabled, overridden: s.name in choices })) };
    });

    app.put('/api/mcp/chats/:conversationId/servers/:name', async (req) => {
      const { conversationId, name } = parseWith(chatParams.extend(nameParams.shape), req.params, 'parameters');
      const { enabled } = parseWith(enabledBody, req.body);
      o.conversations.get(conversationId);
      guarded('the choice', () => mcp.store.setChatServer(conversationId, name, enabled));
      return { conversationId, server: name, enabled };
    });

    app.get('/api/mcp/attachments/:id', async (req, reply) => {
      const { id } = parseWith(z.object({ id: z.string().regex(ATTACHMENT_ID_RE, 'not an attachment id') }), req.params, 'parameters');
      const file = path.join(mcp.attachmentsDir, id);
      try {
        statSync(file);
      } catch {
        throw notFound('attachment', id);
      }
      return reply.header('content-type', attachmentMime(id)).header('cache-control', 'private, max-age=31536000, immutable').send(createReadStream(file));
    });

    // -- the assistant as an MCP server -------------------------------------------------------------------
    app.get('/api/mcp/host/tools', async () => ({ tools: mcp.host.list(), appOpen: presence.open > 0 }));

    app.put('/api/mcp/host/tools/:name', async (req) => {
      const { name } = parseWith(z.object({ name: z.string().min(1).max(64) }), req.params, 'parameters');
      const { enabled } = parseWith(enabledBody, req.body);
      mcp.host.setEnabled(name, enabled);
      return { name, enabled };
    });

    app.get('/api/mcp/host/audit', async (req) => {
      const q = parseWith(
        z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), before: z.coerce.number().int().min(1).optional() }),
        req.query,
        'query',
      );
      return { entries: mcp.store.auditList(q.limit, q.before) };
    });

    // The app keeps this open; MCP clients' calls that change data are announced here.
    app.get('/api/mcp/host/confirmations/events', async (req, reply) => {
      const leave = presence.enter();
      const onRequested = (r: ConfirmationRequest) => {
        if ((r as { origin?: string }).origin !== undefined) stream.send('confirmation_required', { confirmation: r });
      };
      const stream = streams.open(req, reply, () => {
        leave();
        confirmations.off('requested', onRequested);
      });
      confirmations.on('requested', onRequested);
      stream.send('ready', { pending: confirmations.list().filter((r) => (r as { origin?: string }).origin !== undefined) });
      return reply;
    });

    // `westfall mcp` (another process) asks the user here and waits for the answer.
    app.post('/api/mcp/host/confirm', async (req, reply) => {
      const body = parseWith(z.object({ request: z.record(z.string(), z.unknown()) }).strict(), req.body);
      const request = body.request as unknown as ConfirmationRequest;
      if (typeof request.id !== 'string' || typeof request.call !== 'object' || request.call === null) throw new WestfallError('invalid_params', 'not a confirmation request');
      const abort = new AbortController();
      // The response closing early means `westfall mcp` went away (the request's own 'close' fires once
      // its body is read).
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      return { outcome: await mcp.hostConfirm(request, abort.signal) };
    });

    // Streamable HTTP with sessions (the SDK's transport): a client's initialize opens one, its later
    // requests carry mcp-session-id, DELETE ends it; idle ones are closed, and there are at most a few.
    const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: ReturnType<typeof mcp.host.createServer>; seen: number }>();
    const endSession = (id: string) => {
      const s = sessions.get(id);
      if (!s) return;
      sessions.delete(id);
      void s.transport.close().catch(() => {});
      void s.server.close().catch(() => {});
    };
    const sweep = setInterval(() => {
      for (const [id, s] of sessions) if (Date.now() - s.seen > SESSION_IDLE_MS) endSession(id);
    }, 60_000);
    sweep.unref();
    app.addHook('onClose', async () => {
      clearInterval(sweep);
      for (const id of [...sessions.keys()]) endSession(id);
    });
    const handle = async (req: FastifyRequest, reply: FastifyReply) => {
      const header = req.headers['mcp-session-id'];
      const id = typeof header === 'string' ? header : undefined;
      let session = id ? sessions.get(id) : undefined;
      if (id && !session) throw new WestfallError('not_found', 'no such MCP session (it ended or the backend restarted): initialize again');
      if (!session) {
        if (req.method !== 'POST') throw new WestfallError('invalid_params', 'start an MCP session with an initialize request (POST)');
        if (sessions.size >= MAX_SESSIONS) {
          const oldest = [...sessions.entries()].sort((x, y) => x[1].seen - y[1].seen)[0];
          if (oldest) endSession(oldest[0]);
        }
        const server = mcp.host.createServer('http');
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: true,
          onsessioninitialized: (sid) => {
            sessions.set(sid, { transport, server, seen: Date.now() });
          },
        });
        transport.onclose = () => {
          if (transport.sessionId) sessions.delete(transport.sessionId);
        };
        await server.connect(transport);
        session = { transport, server, seen: Date.now() };
      }
      session.seen = Date.now();
      reply.hijack();
      await session.transport.handleRequest(req.raw, reply.raw, req.body);
    };
    app.post('/mcp', handle);
    app.get('/mcp', handle);
    app.delete('/mcp', handle);
  };
}
