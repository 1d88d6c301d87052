// A short, fixed-seed run of the route fuzzer (scripts/fuzz-routes.ts, `npm run fuzz:routes` for the long
// one) against the whole service in a child process, and the two findings of the long runs as plain
// regression tests: answers that Fastify gave in its own shape before any route ran.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure, runRouteFuzz } from '../../scripts/fuzz-routes.js';
import { errorBodySchema, openAIErrorBodySchema } from '../../src/server/schemas.js';
import { AUTH, startServer, type TestServer } from './helpers.js';

describe('route fuzzing (bounded)', () => {
  it(
    '600 cases over every route: no undocumented 5xx, every error typed, no hang, /health after each batch',
    async () => {
      // A generous per-request limit: a loaded machine is slow, not wrong.
      const report = await runRouteFuzz({ cases: 600, seed: 11, limitSeconds: 300 });
      expect(report.failures.map(describeFailure)).toEqual([]);
      expect(report.crashes).toBe(0);
      // The harness reached the handlers, the WebSocket route and the security layer.
      expect(report.routes.length).toBeGreaterThan(50);
      expect(report.outcomes['http 2xx']).toBeGreaterThan(50);
      expect(report.outcomes['http 4xx']).toBeGreaterThan(50);
      expect(report.outcomes['ws answered']).toBeGreaterThan(20);
    },
    600_000,
  );
});

/** One raw HTTP exchange: the status line and the body. */
function raw(port: number, request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (d) => (data += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('answers given before any route runs (fuzzer findings)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ load: false });
  });
  afterAll(() => server.close());

  it("a URL with a stray '%' → 400 in the project's error shape, not Fastify's", async () => {
    const r = await fetch(`${server.url}/api/conversations/%`, { headers: AUTH });
    expect(r.status).toBe(400);
    const body = errorBodySchema.parse(await r.json());
    expect(body.error.code).toBe('invalid_request');
    const v1 = await fetch(`${server.url}/v1/models/%zz`, { headers: AUTH });
    expect(v1.status).toBe(400);
    expect(openAIErrorBodySchema.parse(await v1.json()).error.code).toBe('invalid_request');
  });

  it('headers over the size limit → 431, and a request that is not HTTP → 400, both in either error shape', async () => {
    const big = await raw(server.port, `GET /health?${'a'.repeat(70_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(big.status).toBe(431);
    const parsed = JSON.parse(big.body) as unknown;
    expect(errorBodySchema.parse(parsed).error.code).toBe('invalid_request');
    expect(openAIErrorBodySchema.parse(parsed).error.code).toBe('invalid_request');
    const garbage = await raw(server.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(errorBodySchema.parse(JSON.parse(garbage.body)).error.code).toBe('invalid_request');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
