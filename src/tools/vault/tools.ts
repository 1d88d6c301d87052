// The vault functions the model can call. None returns a password or notes: the model can find entries
// by title, URL or username, and ask the app to copy a password, which the user approves there.
import { z } from 'zod';
import { defineTool, type AnyTool } from '../registry.js';
import type { VaultService } from './vault.js';

export function vaultTools(vault: VaultService): AnyTool[] {
  return [
    defineTool({
      name: 'vault_status',
      title: 'Vault status',
      description: 'Whether the password vault is set up and unlocked, and how many entries it has.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => {
        const s = vault.status();
        return { initialized: s.initialized, unlocked: s.unlocked, entries: s.entries };
      },
    }),
    defineTool({
      name: 'vault_search_entries',
      title: 'Search the vault',
      description: 'Find password vault entries by words in their title, URL or username. Returns ids, titles, usernames and URLs (never passwords). The vault must be unlocked.',
      input: z.object({ query: z.string().max(100).default(''), limit: z.number().int().min(1).max(50).default(10) }).strict(),
      mutates: false,
      handler: (a) => {
        const r = vault.search(a.query, { limit: a.limit });
        return {
          entries: r.entries.map((e) => ({ id: e.id, title: e.title, username: e.username, url: e.url })),
          ...(r.damaged.length > 0 ? { damagedEntries: r.damaged.length } : {}),
        };
      },
    }),
    defineTool({
      name: 'vault_copy_password',
      title: 'Copy a password',
      description: "Ask the app to copy an entry's password to the clipboard. The user must approve it in the app; you never see the password.",
      input: z.object({ id: z.string().min(1).max(100) }).strict(),
      mutates: false,
      handler: (a) => {
        const req = vault.requestCopy(a.id);
        return { status: 'pending_user_approval', requestId: req.id, title: req.title, expiresAt: req.expiresAt };
      },
    }),
  ];
}
