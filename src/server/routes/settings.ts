// GET /api/settings, PATCH /api/settings: the settings the backend keeps for the app (user-settings.ts).
import type { FastifyPluginAsync } from 'fastify';
import { parseWith } from '../errors.js';
import type { ServerPluginOptions } from '../context.js';
import { userSettingsPatchSchema, type UserSettings } from '../user-settings.js';

export function settingsRoutes(settings: UserSettings): FastifyPluginAsync<ServerPluginOptions> {
  return async (app) => {
    app.get('/api/settings', async () => settings.get());
    app.patch('/api/settings', async (req) => settings.update(parseWith(userSettingsPatchSchema, req.body ?? {})));
  };
}
