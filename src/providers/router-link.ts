// Keeps the model router's engines in step with the providers: one RemoteEngine per enabled provider,
// added when it is created or enabled, removed when it is disabled or deleted. With no provider, the
// router has only the local engine and nothing can leave the machine.
import type { ModelRouter } from '../server/models/router.js';
import { RemoteEngine } from './engine.js';
import type { RemoteChat } from './remote-chat.js';

/** Registers the providers' engines with `router` and follows changes; returns a function that stops. */
export function linkProvidersToRouter(router: ModelRouter, remote: RemoteChat): () => void {
  const sync = () => {
    const wanted = new Set(remote.service.store.list().filter((p) => p.enabled).map((p) => p.id));
    for (const e of router.engines()) {
      if (e.kind === 'remote' && e instanceof RemoteEngine && !wanted.has(e.id)) void router.removeEngine(e.id);
    }
    for (const id of wanted) if (!router.engine(id)) router.addEngine(new RemoteEngine(remote, id));
  };
  sync();
  // Health checks start in the background: the models appear once each provider has answered.
  remote.service.refresh().catch(() => {});
  return remote.service.onChange(sync);
}
