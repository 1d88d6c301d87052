// /api/vault: set up, unlock, lock, change the master password; entries (lists carry no passwords; one
// entry read by id does, for the app); the generator and strength check; copy requests made by the model
// and approved here by the user; and an event stream (locked, unlocked, copy_requested). Responses that
// carry a secret are marked no-store. Request bodies are never logged.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  checkStrength,
  masterPasswordVerdict,
  generatePassphrase,
  generatePassword,
  passphraseOptionsSchema,
  passwordOptionsSchema,
  type CopyRequest,
  type LockReason,
  type VaultService,
} from '../../tools/vault/index.js';
import { parseWith } from '../errors.js';
import { defined, eventStreams, limitQuery, uuidParams } from './tool-helpers.js';

export interface VaultRoutesOptions {
  vault: VaultService;
  heartbeatMs?: number;
}

const secret = z.string().min(1).max(1024);
const entryBody = z
  .object({
    title: z.string().min(1).max(200),
    username: z.string().max(500).optional(),
    password: z.string().max(4096).optional(),
    url: z.string().max(2048).optional(),
    notes: z.string().max(20_000).optional(),
  })
  .strict();

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

const vaultRoutes: FastifyPluginAsync<VaultRoutesOptions> = async (app, { vault, heartbeatMs }) => {
  const streams = eventStreams(app, defined({ heartbeatMs }));

  app.get('/api/vault/status', async () => vault.status());
  app.post('/api/vault/setup', async (req, reply) => {
    const body = parseWith(z.object({ masterPassword: secret }).strict(), req.body);
    reply.code(201);
    return vault.setup(body.masterPassword);
  });
  app.post('/api/vault/unlock', async (req) => vault.unlock(parseWith(z.object({ masterPassword: secret }).strict(), req.body).masterPassword));
  app.post('/api/vault/lock', async () => {
    vault.lock('manual');
    return vault.status();
  });
  app.post('/api/vault/password', async (req) => {
    const body = parseWith(z.object({ currentPassword: secret, newPassword: secret }).strict(), req.body);
    return vault.changeMasterPassword(body.currentPassword, body.newPassword);
  });

  app.get('/api/vault/entries', async (req) => {
    const q = parseWith(z.object({ q: z.string().max(200).optional(), limit: limitQuery.default(500) }), req.query, 'query');
    return vault.search(q.q ?? '', { limit: q.limit });
  });
  app.post('/api/vault/entries', async (req, reply) => {
    const body = parseWith(entryBody, req.body);
    reply.code(201);
    return vault.create(defined(body));
  });
  app.get('/api/vault/entries/:id', async (req, reply) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    noStore(reply);
    return vault.get(id);
  });
  app.patch('/api/vault/entries/:id', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    return vault.update(id, defined(parseWith(entryBody.partial().strict(), req.body)));
  });
  app.delete('/api/vault/entries/:id', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    vault.delete(id);
    return { deleted: id };
  });

  app.post('/api/vault/generate', async (req, reply) => {
    const body = parseWith(
      z.discriminatedUnion('mode', [
        z.object({ mode: z.literal('password'), options: passwordOptionsSchema.optional() }).strict(),
        z.object({ mode: z.literal('passphrase'), options: passphraseOptionsSchema.optional() }).strict(),
      ]),
      req.body ?? { mode: 'password' },
    );
    const g = body.mode === 'password' ? generatePassword(body.options ?? {}) : generatePassphrase(body.options ?? {});
    noStore(reply);
    return { mode: body.mode, password: g.password, entropyBits: g.entropyBits, strength: checkStrength(g.password) };
  });
  app.post('/api/vault/strength', async (req) => {
    const body = parseWith(z.object({ password: z.string().max(1024), userInputs: z.array(z.string().max(200)).max(20).optional() }).strict(), req.body);
    // `master`: whether the vault would take it as a master password, and if not why (the setup form's meter).
    const master = masterPasswordVerdict(body.password);
    return { ...checkStrength(body.password, body.userInputs), master: { ok: master.ok, required: master.required, reason: master.reason } };
  });

  app.get('/api/vault/copy-requests', async () => ({ requests: vault.copyRequests.list() }));
  app.post('/api/vault/copy-requests/:id/approve', async (req, reply) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    noStore(reply);
    return vault.approveCopy(id);
  });
  app.post('/api/vault/copy-requests/:id/deny', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    return { denied: vault.denyCopy(id) };
  });

  app.get('/api/vault/events', async (req, reply) => {
    const onLocked = (reason: LockReason) => stream.send('locked', { reason });
    const onUnlocked = () => stream.send('unlocked', {});
    const onCopy = (r: CopyRequest) => stream.send('copy_requested', r);
    const stream = streams.open(req, reply, () => {
      vault.off('locked', onLocked);
      vault.off('unlocked', onUnlocked);
      vault.off('copy_requested', onCopy);
    });
    vault.on('locked', onLocked);
    vault.on('unlocked', onUnlocked);
    vault.on('copy_requested', onCopy);
    stream.send('status', vault.status());
    return reply;
  });
};

export default vaultRoutes;
export { vaultRoutes };
