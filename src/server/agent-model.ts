// The agent (POST /api/agent/chat) on the model a chat picked rather than the default one: the model is
// loaded (or made room for) before the turn starts, and every step goes to it through the router.
import { WestfallError } from '../errors.js';
import { managerBackend, type AgentBackend, type ManagerLike } from '../tools/agent.js';
import type { ModelManager } from './model-manager.js';

export async function namedModelBackend(manager: ModelManager, name: string, keepAlive?: number): Promise<AgentBackend> {
  const { route, model } = await manager.prepare(name, { keepAlive });
  if (!model && route.engine.kind === 'remote') {
    // A remote provider's model (src/providers): its server renders the turns; tools go as OpenAI's
    // native fields and the reply comes back already read (deltas).
    const steps = managerBackend({ model: null, chat: (job) => manager.chat({ ...job, model: route.model }) });
    return { model: () => null, generate: steps.generate };
  }
  if (!model) {
    throw new WestfallError('invalid_request', `the model "${route.model}" runs on ${route.engine.id}; tool use with remote models goes through /v1/chat/completions`, {
      details: { model: route.model, engine: route.engine.id },
    });
  }
  const like: ManagerLike = {
    get model() {
      // A model split over workers has no weights here: its template model renders the turns.
      return manager.local.get(route.model)?.model ?? (route.engine === manager.workerHost ? model : null);
    },
    chat: (job) => manager.chat({ ...job, model: route.model, ...(keepAlive !== undefined ? { keepAlive } : {}) }),
  };
  return managerBackend(like);
}
