// One MCP server the assistant uses, through the official SDK's Client: started on demand (the first
// time a chat needs its tools), restarted with backoff after it exits or fails to start, stopped on quit.
// Every request has a time limit, so a server that hangs gives the model and the user an mcp_timeout error
// instead of a chat that never ends; one that crashes mid-call gives mcp_server_unavailable with the last
// lines it wrote to stderr.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { WestfallError } from '../errors.js';
import { VERSION } from '../version.js';
import { isStdio, type McpServerConfig } from './config.js';

export type ConnectionState = 'stopped' | 'starting' | 'ready' | 'failed';

export interface ConnectionOptions {
  /** Start (spawn + initialize) time limit (default 30 s; npx may download first). */
  startTimeoutMs?: number;
  /** A tools/list or tools/call time limit (default 60 s). */
  requestTimeoutMs?: number;
  /** First delay before a restart after a failure; doubles up to maxBackoffMs (default 1 s, 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Largest message read from a stdio server (default 16 MiB). */
  maxMessageBytes?: number;
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
  now?: () => number;
}

/**
 * The SDK compiles a tool's outputSchema with Ajv after tools/list. A third party's schema is untrusted
 * (a pathological pattern or nesting would run inside our process) and we never use structuredContent
 * without its text, so output schemas are accepted without compiling them.
 */
const noOutputValidation: jsonSchemaValidator = {
  getValidator: () => (input: unknown) => ({ valid: true, data: input as never, errorMessage: undefined }),
};

const STDERR_TAIL = 2000;

const looseToolList = z.looseObject({ tools: z.array(z.unknown()), nextCursor: z.unknown().optional() });

export class McpConnection {
  state: ConnectionState = 'stopped';
  lastError: string | null = null;
  /** Failures in a row (reset by a successful start). */
  failures = 0;
  /** No start is tried before this time (epoch ms). */
  retryAt = 0;
  /** Tools of the last listing that are not valid MCP tools at all (name, why). */
  rejected: { name: string; message: string }[] = [];
  #client: Client | null = null;
  #starting: Promise<Client> | null = null;
  #tools: Tool[] | null = null;
  #stderr = '';
  #stopped = false;
  readonly #o: Required<Omit<ConnectionOptions, 'log'>> & Pick<ConnectionOptions, 'log'>;

  constructor(
    readonly name: string,
    readonly config: McpServerConfig,
    options: ConnectionOptions = {},
  ) {
    this.#o = {
      startTimeoutMs: 30_000,
      requestTimeoutMs: 60_000,
      backoffMs: 1000,
      maxBackoffMs: 60_000,
      maxMessageBytes: 16 * 1024 * 1024,
      now: Date.now,
      ...options,
    };
  }

  /** The last lines the server wrote to stderr (stdio servers). */
  get stderrTail(): string {
    return this.#stderr;
  }

  status() {
    return {
      name: this.name,
      state: this.state,
      lastError: this.lastError,
      failures: this.failures,
      retryAt: this.state === 'failed' ? this.retryAt : null,
      tools: this.#tools?.length ?? null,
    };
  }

  #unavailable(message: string, cause?: unknown): WestfallError {
    const tail = this.#stderr.trim().split('\n').slice(-5).join('\n');
    return new WestfallError('mcp_server_unavailable', `MCP server ${this.name}: ${message}${tail ? `; its last output: ${tail.slice(-500)}` : ''}`, {
      details: { server: this.name },
      ...(cause ? { cause } : {}),
    });
  }

  #fail(err: WestfallError): void {
    this.state = 'failed';
    this.lastError = err.message;
    this.failures++;
    this.retryAt = this.#o.now() + Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (this.failures - 1));
    this.#o.log?.('warn', 'mcp server failed', { server: this.name, failures: this.failures, error: err.message });
  }

  #transport(): Transport {
    const c = this.config;
    if (isStdio(c)) {
      const t = new StdioClientTransport({
        command: c.command,
        args: c.args,
        ...(c.env ? { env: c.env } : {}),
        ...(c.cwd ? { cwd: c.cwd } : {}),
        stderr: 'pipe',
        maxBufferSize: this.#o.maxMessageBytes,
      } as ConstructorParameters<typeof StdioClientTransport>[0]);
      t.stderr?.on('data', (chunk: Buffer) => {
        this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
      return t;
    }
    return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers ?? {}, redirect: 'error' } });
  }

  /** The connected client, starting the server if needed (at most one start at a time). */
  async client(): Promise<Client> {
    if (this.#stopped) throw this.#unavailable('the assistant is shutting down');
    if (this.#client && this.state === 'ready') return this.#client;
    if (this.#starting) return this.#starting;
    const wait = this.retryAt - this.#o.now();
    if (this.state === 'failed' && wait > 0) {
      throw this.#unavailable(`it failed (${this.lastError}); the next try is in ${Math.ceil(wait / 1000)} s`);
    }
    this.#starting = this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #start(): Promise<Client> {
    this.state = 'starting';
    this.#stderr = '';
    this.#tools = null;
    const client = new Client({ name: 'westfall-assistant', version: VERSION }, { capabilities: {}, jsonSchemaValidator: noOutputValidation });
    const transport = this.#transport();
    client.onerror = (err) => this.#o.log?.('warn', 'mcp transport error', { server: this.name, error: err.message });
    try {
      await client.connect(transport, { timeout: this.#o.startTimeoutMs });
    } catch (err) {
      await client.close().catch(() => {});
      const e = this.#unavailable(`could not be started: ${describe(err)}`, err);
      this.#fail(e);
      throw e;
    }
    client.onclose = () => {
      if (this.#client !== client) return;
      this.#client = null;
      this.#tools = null;
      if (this.#stopped) return;
      this.#fail(this.#unavailable('it exited'));
    };
    // The server's tool list can change while it runs.
    client.setNotificationHandler(
      (await import('@modelcontextprotocol/sdk/types.js')).ToolListChangedNotificationSchema,
      () => {
        this.#tools = null;
      },
    );
    this.#client = client;
    this.state = 'ready';
    this.failures = 0;
    this.lastError = null;
    this.#o.log?.('info', 'mcp server started', { server: this.name });
    return client;
  }

  /** The server's tools (cached until it says they changed or it restarts). */
  async listTools(signal?: AbortSignal): Promise<Tool[]> {
    if (this.#tools && this.state === 'ready') return this.#tools;
    const client = await this.client();
    try {
      const tools: Tool[] = [];
      this.rejected = [];
      let cursor: string | undefined;
      // Paginated; a server that pages forever is cut at a few pages.
      for (let page = 0; page < 10; page++) {
        // Read loosely and check each tool apart: the SDK's listTools refuses the whole list when one
        // tool is malformed, and one careless or hostile tool must not take the server's others with it.
        const r = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, looseToolList, {
          timeout: this.#o.requestTimeoutMs,
          ...(signal ? { signal } : {}),
        });
        for (const raw of r.tools.slice(0, 1000)) {
          const t = ToolSchema.safeParse(raw);
          if (t.success) tools.push(t.data);
          else this.rejected.push({ name: typeof (raw as { name?: unknown })?.name === 'string' ? String((raw as { name: string }).name).slice(0, 128) : '(no name)', message: t.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 300) });
        }
        cursor = typeof r.nextCursor === 'string' ? r.nextCursor : undefined;
        if (!cursor || tools.length >= 500) break;
      }
      this.#tools = tools;
      return tools;
    } catch (err) {
      throw this.#mapError(err, 'listing its tools');
    }
  }

  /** Calls a tool; the result as the server gave it (isError included). */
  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const client = await this.client();
    try {
      return (await client.callTool({ name, arguments: args }, undefined, {
        timeout: this.#o.requestTimeoutMs,
        ...(signal ? { signal } : {}),
      })) as CallToolResult;
    } catch (err) {
      throw this.#mapError(err, `calling ${name}`);
    }
  }

  #mapError(err: unknown, what: string): WestfallError {
    if (err instanceof WestfallError) return err;
    if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
      return new WestfallError('mcp_timeout', `MCP server ${this.name} did not answer in ${Math.round(this.#o.requestTimeoutMs / 1000)} s while ${what}`, {
        details: { server: this.name, timeoutMs: this.#o.requestTimeoutMs },
      });
    }
    if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) {
      return this.#unavailable(`it exited while ${what}`, err);
    }
    if ((err as Error)?.name === 'AbortError') return new WestfallError('aborted', `the call to ${this.name} was cancelled`);
    if (err instanceof McpError) {
      return new WestfallError('mcp_tool_failed', `MCP server ${this.name} refused ${what}: ${err.message.slice(0, 500)}`, { details: { server: this.name, mcpCode: err.code } });
    }
    return this.#unavailable(`failed while ${what}: ${describe(err)}`, err);
  }

  /** Stops the server (and forgets a failure, so the next use starts it at once). */
  async stop(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    this.#tools = null;
    this.state = 'stopped';
    this.failures = 0;
    this.retryAt = 0;
    await c?.close().catch(() => {});
  }

  /** Stops for good (quit). */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#starting?.catch(() => {});
    await this.stop();
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `the command was not found (${e.path ?? ''})`;
  return (e?.message ?? String(err)).slice(0, 500);
}
