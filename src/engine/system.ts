// Process-wide engine facilities: what the build can run on, and where llama.cpp's log goes.
import { checkJsonSchema } from './grammar-check.js';
import { callNative, native, type NativeSystemInfo } from './native.js';

export type SystemInfo = NativeSystemInfo;

export function systemInfo(): SystemInfo {
  return callNative(() => native().systemInfo());
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Routes llama.cpp's log lines at `minLevel` and above to `handler` (null: drop them). */
export function setLogHandler(handler: ((level: LogLevel, message: string) => void) | null, minLevel: LogLevel = 'warn'): void {
  callNative(() => native().setLogCallback(handler as ((level: string, message: string) => void) | null, minLevel));
}

/** GBNF grammar for a JSON schema, as llama.cpp's json-schema-to-grammar converts it. */
export function jsonSchemaToGrammar(schema: unknown): string {
  // The converter happily emits grammars that hang or abort llama.cpp for some unsatisfiable schemas.
  checkJsonSchema(schema);
  return callNative(() => native().jsonSchemaToGrammar(JSON.stringify(schema)));
}
