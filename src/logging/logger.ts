// The service logger: pino, JSON lines to a file in the data directory, and to the terminal (pretty
// when it is a TTY, JSON otherwise). Secrets are redacted before anything is written.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger, type StreamEntry } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevelName } from '../config/index.js';
import { REDACT_PATHS, REDACTED } from './redact.js';
import { serializers } from './serializers.js';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  level?: LogLevelName;
  /** Directory for westfall.log; null: no file. */
  logsDir?: string | null;
  /** Terminal output: 'auto' (pretty on a TTY, JSON otherwise), 'pretty', 'json', or false. */
  console?: 'auto' | 'pretty' | 'json' | false;
  /** Extra destination (tests capture log lines with it). */
  destination?: DestinationStream;
}

export interface LoggerHandle {
  logger: Logger;
  /** Absolute path of the log file, or null. */
  file: string | null;
  /** Writes out anything buffered (call before exit). */
  flush(): void;
  /**
   * Waits until the log file is open, then flushes. Before process.exit early in start-up: pino's exit
   * handler flushes the file synchronously and throws "sonic boom is not ready yet" (a crash with a stack
   * instead of our message) if the file has not finished opening.
   */
  flushWhenReady(timeoutMs?: number): Promise<void>;
}

export const LOG_FILE_NAME = 'westfall.log';

export function createLogger(options: CreateLoggerOptions = {}): LoggerHandle {
  const level = options.level ?? 'info';
  const streams: StreamEntry[] = [];
  const flushers: (() => void)[] = [];
  const opening: Promise<void>[] = [];
  let file: string | null = null;

  if (options.logsDir) {
    mkdirSync(options.logsDir, { recursive: true });
    file = path.join(options.logsDir, LOG_FILE_NAME);
    const dest = pino.destination({ dest: file, sync: false, mkdir: true });
    opening.push(
      (dest as unknown as { fd: number }).fd >= 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            dest.once('ready', () => resolve());
            dest.once('error', () => resolve());
          }),
    );
    streams.push({ level: level === 'silent' ? 'fatal' : level, stream: dest });
    flushers.push(() => {
      try {
        dest.flushSync();
      } catch {
        // not ready yet or already closed
      }
    });
  }
  const mode = options.console ?? 'auto';
  if (mode !== false) {
    const usePretty = mode === 'pretty' || (mode === 'auto' && process.stdout.isTTY === true);
    const stream = usePretty
      ? pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : pino.destination({ dest: 1, sync: true });
    streams.push({ level: level === 'silent' ? 'fatal' : level, stream });
  }
  if (options.destination) streams.push({ level: level === 'silent' ? 'fatal' : level, stream: options.destination });

  const logger = pino(
    {
      level: streams.length > 0 ? level : 'silent',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(streams),
  );
  const flush = () => flushers.forEach((f) => f());
  const flushWhenReady = async (timeoutMs = 2000) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(opening), late]);
    clearTimeout(timer);
    flush();
  };
  return { logger, file, flush, flushWhenReady };
}

/** A logger that writes nothing (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
