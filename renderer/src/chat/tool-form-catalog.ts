// What the backend says about its tools (GET /api/tools: title, sentence template, schema), kept once
// per window so a card can put a saved call (a reopened chat) in the same plain words as a live one.
import type { JsonSchema } from './tool-form-model.js';

export interface ToolInfo {
  name: string;
  description: string;
  mutates: boolean;
  parameters: JsonSchema;
  title?: string;
  confirm?: string | null;
  source?: string;
  requiredAny?: string[][];
}

const tools = new Map<string, ToolInfo>();

export function setToolCatalog(list: readonly ToolInfo[]): void {
  tools.clear();
  for (const t of list) tools.set(t.name, t);
}

export function toolInfo(name: string): ToolInfo | undefined {
  return tools.get(name);
}
