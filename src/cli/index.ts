#!/usr/bin/env node
// The `westfall` command. `westfall serve` starts the backend: settings from flags > environment > .env >
// defaults (an invalid one exits with code 2), logs to the data directory, prints the address and how to
// authenticate, loads the configured model, and shuts down gracefully on SIGINT/SIGTERM.
// The address and a one-time login link are printed last (again once the start-up model has loaded), and
// `westfall login-link` prints a fresh link for the running backend at any time.
// `westfall backup` copies the database safely while the service may be running; `westfall restore FILE`
// replaces it with a backup, only while no backend has it open (markers in <db>.users/, see storage/lock.ts).
import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config, type RawSettings } from '../config/index.js';
import { jsonSchemaToGrammar, setLogHandler } from '../engine/index.js';
import { initNative } from '../engine/native.js';
import { createLogger, type Logger } from '../logging/index.js';
import { createApp, ModelManager, type ServerPlugin } from '../server/index.js';
import { probeWestfall, readInstance, removeInstance, writeInstance } from '../server/instance.js';
import modelsRoutes from '../server/routes/models.js';
import { LOGIN_FRAGMENT_KEY, LoginCodes, rendererRoutes } from '../server/routes/renderer.js';
import { settingsRoutes } from '../server/routes/settings.js';
import { SessionSecret } from '../server/session.js';
import { UserSettings, chooseStartupModel, rememberLastModel } from '../server/user-settings.js';
import { modelFileProblem } from '../config/index.js';
import { createToolPlugins } from '../server/routes/tool-plugins.js';
import { createProviders } from '../providers/index.js';
import { mcpRoutes } from '../server/routes/mcp.js';
import { AppPresence, appConfirmer, createMcp } from '../mcp/index.js';
import { isWestfallError } from '../errors.js';
import { acquireRestoreLock, backupDatabase, backupFileName, claimDatabaseUse, openDatabase, restoreDatabase } from '../storage/index.js';
import { createToolServices, DATABASE_FILE, type ToolServices } from '../tools/index.js';
import { loadProfile, profileToEngineOptions } from '../tuning/index.js';
import { registerBenchCommand } from './commands/bench.js';
import { runDoctor } from './commands/doctor.js';
import { runMcpServer } from './commands/mcp.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerDocsCommand } from './commands/docs.js';
import { createWorkers } from '../server/workers/index.js';
import { VERSION } from '../version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

interface ServeFlags {
  model?: string;
  port?: string;
  host?: string;
  dataDir?: string;
  modelsDir?: string;
  contextSize?: string;
  gpuLayers?: string;
  parallel?: string;
  logLevel?: string;
}

const FLAG_KEYS: Record<keyof ServeFlags, [keyof RawSettings, string]> = {
  model: ['WESTFALL_MODEL', '--model'],
  port: ['WESTFALL_PORT', '--port'],
  host: ['WESTFALL_HOST', '--host'],
  dataDir: ['WESTFALL_DATA_DIR', '--data-dir'],
  modelsDir: ['WESTFALL_MODELS_DIR', '--models-dir'],
  contextSize: ['WESTFALL_CONTEXT_SIZE', '--context-size'],
  gpuLayers: ['WESTFALL_GPU_LAYERS', '--gpu-layers'],
  parallel: ['WESTFALL_PARALLEL', '--parallel'],
  logLevel: ['WESTFALL_LOG_LEVEL', '--log-level'],
};

function loginLink(url: string, logins: LoginCodes): string {
  return `${url}/#${LOGIN_FRAGMENT_KEY}=${logins.issue()}`;
}

function printBanner(config: Config, url: string, logFile: string | null, logins: LoginCodes): void {
  const token = config.apiToken;
  const lines = [
    `Westfall Assistant ${VERSION} is listening on ${url}`,
    `  API token: ${config.apiTokenGenerated ? `${token} (generated for this launch; set WESTFALL_API_TOKEN to keep one)` : 'the one configured in WESTFALL_API_TOKEN'}`,
    `  Authenticate with the header  Authorization: Bearer ${config.apiTokenGenerated ? token : '<token>'}`,
    `  OpenAI clients: baseURL ${url}/v1 with the token as apiKey`,
    `  WebSocket: ${url.replace(/^http/, 'ws')}/api/llm/stream (header, ?token= or subprotocol bearer.<token>)`,
    `  Or log in with the token itself (it stays in the browser history): ${url}/?token=${config.apiTokenGenerated ? token : '<token>'}`,
  ];
  if (logFile) lines.push(`  Logs: ${logFile}`);
  // Last, so that it is what the terminal shows: the address and how to sign in.
  lines.push(
    `  Open in a browser (one-time login link, valid ${Math.round(logins.ttlMs / 60_000)} minutes; the browser then stays signed in):`,
    `  ${loginLink(url, logins)}`,
    '  A new link at any time: npx westfall login-link',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Once the start-up model has loaded (or failed), the address and a login link again, below its log lines. */
function printReady(url: string, logins: LoginCodes, what: string): void {
  process.stdout.write(`\nWestfall Assistant is ready at ${url} (${what}).\n  Sign in: ${loginLink(url, logins)}\n  A new link at any time: npx westfall login-link\n`);
}

/** Ends the process once the log file has everything (a log file that is still opening cannot be flushed). */
async function exitAfterLogs(code: number, flush: () => Promise<void>): Promise<never> {
  await flush().catch(() => {});
  process.exit(code);
}

/** Settings from flags > environment > .env > defaults; an invalid one ends the process with code 2. */
function loadConfigOrExit(flags: ServeFlags): { config: Config; warnings: string[] } {
  const overrides: RawSettings = {};
  for (const [flag, [key]] of Object.entries(FLAG_KEYS) as [keyof ServeFlags, [keyof RawSettings, string]][]) {
    if (flags[flag] !== undefined) overrides[key] = flags[flag];
  }
  try {
    return loadConfig({ overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      const fromFlag = new Map(Object.values(FLAG_KEYS).map(([k, f]) => [k as string, f]));
      const lines = err.issues.map((i) => `  ${i.key}${overrides[i.key as keyof RawSettings] !== undefined ? ` (${fromFlag.get(i.key)})` : ''}: ${i.message}`);
      process.stderr.write(`westfall: invalid configuration, not starting:\n${lines.join('\n')}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

export async function serve(flags: ServeFlags): Promise<void> {
  const { config, warnings } = loadConfigOrExit(flags);

  const { logger, file, flush, flushWhenReady } = createLogger({ level: config.logLevel, logsDir: config.logFile ? config.logsDir : null, console: 'auto' });
  for (const w of warnings) logger.warn(w);
  // Chooses the engine build (CUDA, Vulkan, CPU; WESTFALL_BACKEND overrides) without blocking the event
  // loop while GPU variants are probed; a variant that fails its probe is logged and the CPU one used.
  try {
    const variants = await initNative({ log: (m) => logger.warn(m) });
    logger.info({ variant: variants.selected?.label, backend: variants.selected?.backend }, 'engine build selected');
  } catch (err) {
    process.stderr.write(`westfall: the inference engine cannot start: ${(err as Error).message}\n`);
    logger.fatal({ err }, 'no usable engine build');
    return exitAfterLogs(EXIT_FAILURE, flushWhenReady);
  }
  const llamaLog = logger.child({ component: 'llama.cpp' });
  setLogHandler((level, message) => llamaLog[level](message.trimEnd()), 'warn');

  let tools: ToolServices;
  let releaseDatabase: () => void = () => {};
  try {
    // Before opening it: `westfall restore` must not swap the file under us, nor we open it mid-swap.
    releaseDatabase = claimDatabaseUse(path.join(config.dataDir, DATABASE_FILE), 'serve');
    tools = createToolServices(config.dataDir);
  } catch (err) {
    process.stderr.write(`westfall: cannot open the database in ${config.dataDir}: ${(err as Error).message}\n`);
    logger.fatal({ err }, 'cannot open the database');
    return exitAfterLogs(EXIT_FAILURE, flushWhenReady);
  }
  let settings: UserSettings;
  let sessions: SessionSecret;
  try {
    settings = UserSettings.open(config.stateDir, logger);
    // Signs the login links and the browsers' session cookies; kept so that a restart signs nobody out.
    sessions = SessionSecret.open(config.stateDir);
  } catch (err) {
    process.stderr.write(`westfall: cannot use the state folder ${config.stateDir}: ${(err as Error).message}\n`);
    logger.fatal({ err }, 'cannot use the state folder');
    return exitAfterLogs(EXIT_FAILURE, flushWhenReady);
  }
  const manager = new ModelManager({
    ...ModelManager.optionsFromConfig(config, logger),
    // `westfall bench --save-profile` measured the fastest settings for a model on this machine.
    profileFor: async (modelPath) => {
      const profile = await loadProfile(config.dataDir, modelPath);
      if (!profile) return null;
      const { load, context } = profileToEngineOptions(profile);
      // A CPU-only sweep's 0 GPU layers says nothing about a GPU: then the automatic choice applies.
      return profile.machine.gpuOffload ? { ...context, gpuLayers: load.gpuLayers } : context;
    },
  });
  rememberLastModel(manager, settings, logger);
  // Workers (docs/rpc.md): with some enabled under Settings → Workers, models load split over them, in a
  // child process.
  const workers = createWorkers(manager, { stateDir: config.stateDir, logger: logger.child({ component: 'workers' }) });
  // Amounts the model or a request writes as text are read in the user's locale (Settings).
  tools.finance.setLocaleSource(() => settings.get().locale);
  // Remote OpenAI-compatible providers (docs/remote-providers.md): none until the user adds one, and
  // with none nothing leaves this machine. Their keys are sealed under a key file in the state folder.
  const providers = createProviders(tools.db, config.stateDir, { logger: logger.child({ component: 'providers' }) });
  // The web UI at `/` and its sign-in (a printed link's code becomes a session cookie).
  const logins = new LoginCodes({ secret: sessions });
  // MCP both ways (docs/mcp.md): servers the user added start when a chat needs them and stop with the app.
  const presence = new AppPresence();
  const mcpLog = logger.child({ component: 'mcp' });
  const mcp = createMcp({
    db: tools.db,
    registry: tools.registry,
    dataDir: config.dataDir,
    confirm: appConfirmer(tools.confirmations, presence),
    toGrammar: jsonSchemaToGrammar,
    log: (level, msg, data) => mcpLog[level](data ?? {}, msg),
  });
  const app = createApp(config, {
    manager,
    logger,
    sessions,
    remote: providers.remote,
    workers,
    extraPlugins: [
      modelsRoutes as ServerPlugin,
      ...createToolPlugins(tools, { extraTools: (id) => mcp.clients.toolsFor(id) }),
      mcpRoutes({ mcp, presence, confirmations: tools.confirmations, conversations: tools.conversations }) as ServerPlugin,
      settingsRoutes(settings) as ServerPlugin,
      rendererRoutes({ logins }),
    ],
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      flush();
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hard = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      flush();
      process.exit(EXIT_FAILURE);
    }, config.shutdownTimeoutMs + 2000);
    hard.unref();
    try {
      removeInstance(config.stateDir);
      await app.close();
      tools.close();
      releaseDatabase();
      setLogHandler(null);
      logger.info('stopped');
      flush();
      process.exit(EXIT_OK);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      flush();
      process.exit(EXIT_FAILURE);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`westfall: ${await listenProblem(e, config)}\n`);
    // No stack on the terminal: the line above says it all; the file gets the details.
    if (e.code !== 'EADDRINUSE') logger.fatal({ err }, 'cannot listen');
    tools.close();
    releaseDatabase();
    return exitAfterLogs(EXIT_FAILURE, flushWhenReady);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : hostForUrl}:${port}`;
  try {
    writeInstance(config.stateDir, { pid: process.pid, url, version: VERSION, startedAt: new Date().toISOString() });
  } catch (err) {
    logger.warn({ err }, '`westfall login-link` will not find this backend: its address could not be saved');
  }
  process.on('exit', () => removeInstance(config.stateDir));
  logger.info({ url, dataDir: config.dataDir, modelsDir: config.modelsDir, parallel: config.parallel }, 'listening');

  const startup = chooseStartupModel(config.model, settings.get(), modelFileProblem);
  if (startup.path === null) logger.info(startup.reason);
  else logger.info({ path: startup.path }, startup.source === 'last-used' ? 'loading the last used model (Settings can turn this off)' : 'loading the configured model');
  printBanner(config, url, file, logins);
  if (startup.path !== null) {
    const what = startup.source === 'last-used' ? 'the last used model' : 'the configured model';
    manager.load(startup.path).then(
      (status) => {
        if (!stopping) printReady(url, logins, `model ${status.model?.id ?? path.basename(startup.path)} loaded`);
      },
      (err: unknown) => {
        if (stopping) return;
        logger.error({ err }, `${what} could not be loaded; the service keeps running without one`);
        printReady(url, logins, `${what} could not be loaded: ${(err as Error).message}; choose one in Models`);
      },
    );
  }
}

/** One line that says what to do when the port cannot be used. */
async function listenProblem(e: NodeJS.ErrnoException, config: Config): Promise<string> {
  if (e.code === 'EADDRINUSE') {
    const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
    const other = `http://${host}:${config.port}`;
    if (await probeWestfall(other)) {
      return (
        `another Westfall Assistant is already running at ${other}: open that one (a new login link: npx westfall login-link), ` +
        'or stop it; to run a second one, set WESTFALL_PORT (or --port) to a free port'
      );
    }
    return `port ${config.port} is in use by another program: set WESTFALL_PORT (or --port) to a free port, e.g. WESTFALL_PORT=${config.port === 65535 ? 8757 : config.port + 1} npm start`;
  }
  if (e.code === 'EACCES') return `cannot listen on ${config.host}:${config.port}: permission denied; choose a port above 1023 with WESTFALL_PORT (or --port)`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${config.host}: this computer has no such address; set WESTFALL_HOST (default 127.0.0.1)`;
  return `cannot listen on ${config.host}:${config.port}: ${e.message}`;
}

/** `westfall login-link`: a fresh one-time link for the backend running on this data directory. */
async function printLoginLink(flags: { dataDir?: string }): Promise<number> {
  const { config } = loadConfigOrExit({ dataDir: flags.dataDir });
  const instance = readInstance(config.stateDir);
  const running = instance ? await probeWestfall(instance.url) : null;
  if (!instance || !running) {
    process.stderr.write(`westfall: no Westfall backend is running for ${config.dataDir}; start it with \`npm start\` (or \`npx westfall serve\`), which prints a login link\n`);
    return EXIT_FAILURE;
  }
  const secret = SessionSecret.read(config.stateDir);
  if (!secret) {
    process.stderr.write(`westfall: the backend at ${instance.url} has no sign-in secret in ${config.stateDir}; restart it\n`);
    return EXIT_FAILURE;
  }
  const logins = new LoginCodes({ secret });
  process.stdout.write(`${loginLink(instance.url, logins)}\n`);
  process.stderr.write(`(one-time link for ${instance.url}, valid ${Math.round(logins.ttlMs / 60_000)} minutes; the browser then stays signed in)\n`);
  return EXIT_OK;
}

function claimOrExit(dbFile: string, kind: string): () => void {
  try {
    return claimDatabaseUse(dbFile, kind);
  } catch (err) {
    if (!isWestfallError(err)) throw err;
    process.stderr.write(`westfall: ${err.message}\n`);
    process.exit(EXIT_FAILURE);
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program.name('westfall').description('Westfall Assistant: a private assistant that runs language models on your machine').version(VERSION);
  program
    .command('serve')
    .description('start the local backend (HTTP, WebSocket and OpenAI-compatible API)')
    .option('-m, --model <path>', 'GGUF model to load at startup (WESTFALL_MODEL)')
    .option('-p, --port <n>', 'port to listen on, 0 for any free port (WESTFALL_PORT, default 8756)')
    .option('-H, --host <host>', 'address to listen on (WESTFALL_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .option('--models-dir <dir>', 'models directory (WESTFALL_MODELS_DIR)')
    .option('--context-size <n>', 'context size in tokens (WESTFALL_CONTEXT_SIZE)')
    .option('--gpu-layers <n>', 'layers to offload to the GPU: auto (default: what fits), 0 = none, -1 = all (WESTFALL_GPU_LAYERS)')
    .option('--parallel <n>', 'generations decoded together (WESTFALL_PARALLEL)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (WESTFALL_LOG_LEVEL)')
    .action(async (flags: ServeFlags) => serve(flags));
  registerWorkerCommand(program);
  registerDocsCommand(program, (flags) => loadConfigOrExit({ dataDir: flags.dataDir }).config);
  program
    .command('backup')
    .description('copy the database (conversations, finance, time tracking, vault, music library) to a file')
    .option('-o, --out <path>', 'destination file (default: <data dir>/backups/<timestamp>.db)')
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .action(async (flags: { out?: string; dataDir?: string }) => {
      const { config } = loadConfigOrExit({ dataDir: flags.dataDir });
      // Read-write with WAL and a busy timeout: safe while `westfall serve` uses the same file.
      const dbFile = path.join(config.dataDir, DATABASE_FILE);
      const release = claimOrExit(dbFile, 'backup');
      const db = openDatabase(dbFile);
      try {
        const result = await backupDatabase(db, flags.out ?? path.join(config.dataDir, 'backups', backupFileName()));
        process.stdout.write(`${result.path}\n`);
      } finally {
        db.close();
        release();
      }
    });
  program
    .command('restore')
    .argument('<file>', 'a backup made by `westfall backup` (or any copy of the database)')
    .description(
      'replace the database with a backup. Stop the backend first (westfall serve, the desktop app): restore ' +
        'refuses while one has the database open. The backup is checked (SQLite integrity, a Westfall schema ' +
        'no newer than this build) and migrated before the swap; the current database is kept beside it as ' +
        'westfall.db.before-restore-<time>, and put back if anything fails',
    )
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .action((file: string, flags: { dataDir?: string }) => {
      const { config } = loadConfigOrExit({ dataDir: flags.dataDir });
      const dbFile = path.join(config.dataDir, DATABASE_FILE);
      try {
        const release = acquireRestoreLock(dbFile);
        try {
          const r = restoreDatabase(dbFile, file);
          process.stdout.write(
            `Restored ${r.from} into ${r.dbFile} (schema version ${r.backupVersion}` +
              `${r.schemaVersion !== r.backupVersion ? `, migrated to ${r.schemaVersion}` : ''}).\n` +
              (r.previous ? `The previous database is kept at ${r.previous}\n` : ''),
          );
        } finally {
          release();
        }
      } catch (err) {
        if (!isWestfallError(err)) throw err;
        process.stderr.write(`westfall: restore refused (${err.code}): ${err.message}\n`);
        process.exitCode = EXIT_FAILURE;
      }
    });
  program
    .command('login-link')
    .description('print a new one-time login link for the running backend (npm start, westfall serve, the desktop app)')
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .action(async (flags: { dataDir?: string }) => {
      process.exitCode = await printLoginLink(flags);
    });
  program
    .command('mcp')
    .description('serve the assistant\'s tools (those turned on in Settings → MCP) to an MCP client over stdio (Claude Desktop, VS Code)')
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .action(async (flags: { dataDir?: string }) => {
      const { config } = loadConfigOrExit({ dataDir: flags.dataDir });
      await runMcpServer({ dataDir: config.dataDir, stateDir: config.stateDir });
    });
  registerBenchCommand(program);
  program
    .command('doctor')
    .description('show the engine build in use, the devices and their memory, and why other builds were skipped')
    .option('--json', 'print the report as JSON')
    .option('--refresh', 'probe the GPU builds again instead of using cached results')
    .option('--backend <name>', 'auto, cuda, vulkan, metal or cpu (WESTFALL_BACKEND)')
    .option('-m, --model <path>', 'also plan GPU layers and context size for this GGUF model')
    .action(async (o: { json?: boolean; refresh?: boolean; backend?: string; model?: string }) => {
      process.exitCode = await runDoctor(o);
    });
  return program;
}

await buildProgram().parseAsync(process.argv);
