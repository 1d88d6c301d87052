// Structured logging with pino: file + terminal, request ids, secrets redacted.
export { createLogger, silentLogger, LOG_FILE_NAME, type CreateLoggerOptions, type LoggerHandle, type Logger } from './logger.js';
export { REDACT_PATHS, REDACTED, redactUrl, maskToken } from './redact.js';
export { serializers } from './serializers.js';
export { genRequestId, REQUEST_ID_HEADER } from './request-id.js';
