// Westfall Assistant's public entry: the engine, the error catalog and the GGUF tools.
export * from './engine/index.js';
export { WestfallError, isWestfallError, ERROR_CODES, type ErrorCode } from './errors.js';
export * as gguf from './gguf/index.js';
