// A master password must be hard to guess, not just 8 characters long: "password" is refused with a typed
// error (vault_weak_password) and a plain reason, by the service and over HTTP, and the strength route
// tells the setup form's meter whether a password would be accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { isWestfallError } from '../../src/errors.js';
import type { ToolServices } from '../../src/tools/index.js';
import { masterPasswordVerdict } from '../../src/tools/vault/index.js';
import { json, makeApp, makeServices, tempDir } from './helpers.js';

describe('master password strength', () => {
  const dir = tempDir();
  let services: ToolServices;
  let app: FastifyInstance;
  beforeAll(async () => {
    services = makeServices(dir.dir);
    app = await makeApp(services);
  });
  afterAll(async () => {
    await app.close();
    services.close();
    dir.cleanup();
  });

  it('judges common and short-pattern passwords too weak, with a reason', () => {
    for (const weak of ['password', 'password1', 'qwertyuiop', '12345678', 'iloveyou2024']) {
      const v = masterPasswordVerdict(weak);
      expect(v.ok, weak).toBe(false);
      expect(v.reason, weak).toMatch(/too easy to guess/);
    }
    const good = masterPasswordVerdict('correct horse battery staple');
    expect(good).toMatchObject({ ok: true, reason: null });
  });

  it('the service refuses a weak master password with vault_weak_password', async () => {
    const err = await services.vault.setup('password').catch((e: unknown) => e);
    expect(isWestfallError(err, 'vault_weak_password')).toBe(true);
    expect((err as Error).message).toMatch(/This master password is very weak and too easy to guess.*heavily used password/);
    expect((err as { details: { field: string; score: number; required: number } }).details).toMatchObject({ field: 'masterPassword', score: 0, required: 3 });
    expect(services.vault.status().initialized).toBe(false);
  });

  it('over HTTP: 400 vault_weak_password for setup and for a new password; the strength route says why', async () => {
    const weak = await app.inject({ method: 'POST', url: '/api/vault/setup', payload: { masterPassword: 'password' } });
    expect(weak.statusCode).toBe(400);
    expect(json(weak).error.code).toBe('vault_weak_password');
    expect(json(weak).error.message).toMatch(/too easy to guess/);

    const meter = json(await app.inject({ method: 'POST', url: '/api/vault/strength', payload: { password: 'password' } }));
    expect(meter.master).toMatchObject({ ok: false, required: 3 });
    expect(meter.master.reason).toMatch(/too easy to guess/);
    const fine = json(await app.inject({ method: 'POST', url: '/api/vault/strength', payload: { password: 'purple otter gravel lantern' } }));
    expect(fine.master).toEqual({ ok: true, required: 3, reason: null });

    expect((await app.inject({ method: 'POST', url: '/api/vault/setup', payload: { masterPassword: 'purple otter gravel lantern' } })).statusCode).toBe(201);
    const change = await app.inject({ method: 'POST', url: '/api/vault/password', payload: { currentPassword: 'purple otter gravel lantern', newPassword: 'password1' } });
    expect(change.statusCode).toBe(400);
    expect(json(change).error.code).toBe('vault_weak_password');
    expect(json(change).error.details.field).toBe('newPassword');
  });
});
