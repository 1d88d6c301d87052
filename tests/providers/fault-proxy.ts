// A small HTTP proxy in front of a real upstream that injects faults, one per /chat/completions request
// from a queue (then `fallback` for the rest): a status (401, 429 with Retry-After, 500), a slow first byte,
// a stream cut after a number of content events, a redirect. It records what it saw: each request's
// Authorization header, and downstream connections that closed before their answer ended (a cancel).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'cut'; afterEvents: number }
  | { kind: 'redirect'; location: string; status?: number };

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
  /** What the upstream answered (as forwarded). */
  response: string;
}

export class FaultProxy {
  readonly server: http.Server;
  readonly upstream: URL;
  queue: Fault[] = [];
  fallback: Fault = { kind: 'pass' };
  readonly seen: SeenRequest[] = [];
  /** Chat requests whose client went away before the answer ended. */
  aborted = 0;
  /** Upstream requests this proxy cut because its client left. */
  upstreamCancelled = 0;

  constructor(upstream: string) {
    this.upstream = new URL(upstream);
    this.server = http.createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  chatRequests(): SeenRequest[] {
    return this.seen.filter((r) => r.url.endsWith('/chat/completions'));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body, response: '' };
    this.seen.push(seen);
    const isChat = (req.url ?? '').endsWith('/chat/completions');
    const fault: Fault = isChat ? (this.queue.shift() ?? this.fallback) : { kind: 'pass' };
    if (fault.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ error: { message: `injected ${fault.status}`, type: 'injected' } }));
      return;
    }
    if (fault.kind === 'redirect') {
      res.writeHead(fault.status ?? 307, { location: fault.location });
      res.end();
      return;
    }
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        if (isChat) this.aborted++;
      }
    });
    if (fault.kind === 'delay') {
      await new Promise((r) => setTimeout(r, fault.ms));
      if (clientGone) return;
    }
    const headers = { ...req.headers, host: this.upstream.host };
    const up = http.request({ host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      let events = 0;
      upRes.on('data', (c: Buffer) => {
        if (res.destroyed) return;
        res.write(c);
        seen.response += String(c);
        if (fault.kind === 'cut') {
          events += (String(c).match(/"content":"[^"]/g) ?? []).length;
          // Cut the connection mid-stream, as a crashed server or a dropped network does.
          if (events >= fault.afterEvents) {
            up.destroy();
            res.socket?.destroy();
          }
        }
      });
      upRes.on('end', () => res.end());
      upRes.on('error', () => res.destroy());
    });
    up.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished && !up.destroyed) {
        this.upstreamCancelled++;
        up.destroy();
      }
    });
    up.end(body);
  }
}
