// `westfall docs`: document collections from the terminal, through the running backend (which holds the
// embedding model): `westfall docs list`, `westfall docs index <collection>` (by name or id) with its
// progress until the job ends, `westfall docs add <collection> <path...>` (creates the collection when
// needed). Requests are signed with the data directory's sign-in secret, as `westfall login-link` does.
import type { Command } from 'commander';
import { probeWestfall, readInstance } from '../../server/instance.js';
import { issueSessionCookie, sessionCookieName, SessionSecret } from '../../server/session.js';
import type { CollectionSummary, IndexJob } from '../../documents/types.js';

type ConfigFor = (flags: { dataDir?: string | undefined }) => { stateDir: string };

class BackendError extends Error {}

async function backend(stateDir: string) {
  const instance = readInstance(stateDir);
  if (!instance || !(await probeWestfall(instance.url))) throw new BackendError('no Westfall backend is running for this data directory; start it with `npm start` (or `npx westfall serve`): it holds the embedding model');
  const secret = SessionSecret.read(stateDir);
  if (!secret) throw new BackendError(`the backend at ${instance.url} has no sign-in secret; restart it`);
  const port = new URL(instance.url).port || '80';
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${instance.url}${path}`, {
      method,
      headers: { origin: instance.url, cookie: `${sessionCookieName(port)}=${issueSessionCookie(secret)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as T & { error?: { code: string; message: string } };
    if (!res.ok) throw new BackendError(`${json.error?.message ?? res.statusText} (${json.error?.code ?? res.status})`);
    return json;
  };
}

type Call = Awaited<ReturnType<typeof backend>>;

async function findCollection(call: Call, ref: string): Promise<CollectionSummary | null> {
  const { collections } = await call<{ collections: CollectionSummary[] }>('GET', '/api/documents/collections');
  return collections.find((c) => String(c.id) === ref || c.name === ref) ?? null;
}

export function progressLine(j: IndexJob): string {
  const files = j.filesTotal > 0 ? `${j.filesDone}/${j.filesTotal} files` : 'listing files';
  const extra = [j.filesSkipped ? `${j.filesSkipped} unchanged` : '', j.filesFailed ? `${j.filesFailed} failed` : '', j.filesRemoved ? `${j.filesRemoved} removed` : ''].filter(Boolean).join(', ');
  return `${files}, ${j.chunksEmbedded} chunks embedded${extra ? ` (${extra})` : ''}`;
}

async function follow(call: Call, job: IndexJob): Promise<IndexJob> {
  let last = '';
  const tty = process.stderr.isTTY;
  for (;;) {
    const line = progressLine(job);
    if (line !== last) {
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      last = line;
    }
    if (!['queued', 'running'].includes(job.state)) break;
    await new Promise((r) => setTimeout(r, 500));
    job = (await call<{ job: IndexJob }>('GET', `/api/documents/jobs/${job.id}`)).job;
  }
  if (tty) process.stderr.write('\n');
  return job;
}

async function run(fn: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (err) {
    if (!(err instanceof BackendError)) throw err;
    process.stderr.write(`westfall: ${err.message}\n`);
    process.exitCode = 1;
  }
}

export function registerDocsCommand(program: Command, configFor: ConfigFor): void {
  const docs = program.command('docs').description('document collections: list, add folders or files, index (through the running backend)');
  docs
    .command('list')
    .description('list the collections with their files, chunks and last job')
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .action((flags: { dataDir?: string }) =>
      run(async () => {
        const call = await backend(configFor(flags).stateDir);
        const { collections } = await call<{ collections: CollectionSummary[] }>('GET', '/api/documents/collections');
        if (collections.length === 0) process.stdout.write('No collections yet: westfall docs add <name> <folder>\n');
        for (const c of collections) {
          process.stdout.write(`${c.id}\t${c.name}\t${c.files} files, ${c.chunks} chunks${c.failed ? `, ${c.failed} failed` : ''}\t${c.embedModel ?? '(not embedded)'}\t${c.job ? c.job.state : 'never indexed'}\n`);
        }
        return 0;
      }),
    );
  docs
    .command('add')
    .argument('<collection>', 'collection name or id (created when no collection has this name)')
    .argument('<paths...>', 'folders or files to add')
    .option('--no-index', 'do not index now')
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .action((ref: string, paths: string[], flags: { dataDir?: string; index: boolean }) =>
      run(async () => {
        const call = await backend(configFor(flags).stateDir);
        let c = await findCollection(call, ref);
        if (!c) c = (await call<{ collection: CollectionSummary }>('POST', '/api/documents/collections', { name: ref, index: false })).collection;
        for (const p of paths) await call('POST', `/api/documents/collections/${c.id}/sources`, { path: p, index: false });
        if (!flags.index) return 0;
        const { job } = await call<{ job: IndexJob }>('POST', `/api/documents/collections/${c.id}/index`);
        const end = await follow(call, job);
        return end.state === 'done' ? 0 : 1;
      }),
    );
  docs
    .command('index')
    .argument('<collection>', 'collection name or id')
    .description('index the collection now (only changed files are read and embedded again) and show the progress')
    .option('--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)')
    .action((ref: string, flags: { dataDir?: string }) =>
      run(async () => {
        const call = await backend(configFor(flags).stateDir);
        const c = await findCollection(call, ref);
        if (!c) throw new BackendError(`no collection named or numbered "${ref}" (westfall docs list shows them)`);
        const { job } = await call<{ job: IndexJob }>('POST', `/api/documents/collections/${c.id}/index`);
        const end = await follow(call, job);
        if (end.state !== 'done') {
          process.stderr.write(`westfall: the job ended ${end.state}${end.error ? `: ${end.error}` : ''}\n`);
          return 1;
        }
        const { files } = await call<{ files: { path: string; status: string; error: string | null }[] }>('GET', `/api/documents/collections/${c.id}`);
        for (const f of files.filter((x) => x.status === 'failed')) process.stderr.write(`skipped ${f.path}: ${f.error}\n`);
        return 0;
      }),
    );
}
