// Importing a GGUF file the user already has (dropped on the Models screen or picked from disk): the bytes
// arrive as a stream, go to a hidden temporary file in the models directory, are checked by our GGUF reader,
// and only then take the model's name with a rename. A refused or interrupted import leaves nothing behind,
// and an installed model is never replaced unless the caller says so.
//
// The temporary file sits in the models directory itself so that the final rename never crosses file
// systems (a copy there would double the disk use and could leave half a model under its real name).

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, statfs as fsStatfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WestfallError, isWestfallError } from '../errors.js';
import { readGgufHeader } from '../gguf/index.js';
import type { CatalogEntry } from './catalog.js';
import { DEFAULT_DISK_MARGIN_BYTES, type StatfsLike } from './downloader.js';
import { describeModelFile, resolveModelPath } from './store.js';
import type { InstalledModel } from './types.js';

export interface ImportModelOptions {
  modelsDir: string;
  /** The name the model gets (a bare `*.gguf` name). */
  fileName: string;
  /** The file's bytes. */
  source: Readable;
  /** The size the client announced (Content-Length), used to check the free space before writing. */
  expectedSize?: number;
  /** Replace an installed model of the same name. Default false (model_exists). */
  overwrite?: boolean;
  catalog?: readonly CatalogEntry[];
  statfsImpl?: (path: string) => Promise<StatfsLike>;
  /** Free space that must remain after the import. Default 128 MiB (as for downloads). */
  diskMarginBytes?: number;
}

/** Hidden (leading dot) and not `*.gguf`, so neither the model list nor the partial downloads show it. */
const tempName = (): string => `.import-${randomUUID()}.tmp`;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function exists409(fileName: string): WestfallError {
  return new WestfallError('model_exists', `A model named ${fileName} is already installed`, { details: { fileName } });
}

async function checkSpace(
  statfsImpl: (path: string) => Promise<StatfsLike>,
  dir: string,
  needed: number,
  margin: number,
): Promise<void> {
  let available: number;
  try {
    const s = await statfsImpl(dir);
    available = Number(s.bavail) * Number(s.bsize);
  } catch {
    return; // the file system cannot tell: the write itself will fail with ENOSPC if it must
  }
  if (available < needed + margin) {
    throw new WestfallError(
      'insufficient_disk_space',
      `Not enough free disk space for this model: it needs ${needed + margin} bytes (with a margin), ${available} are free`,
      { details: { dir, requiredBytes: needed + margin, availableBytes: available, marginBytes: margin } },
    );
  }
}

/** The reader's reason in the user's words (the technical one stays in details.reason). */
export function plainReason(reason: string): string {
  if (/^not a GGUF file/.test(reason)) return 'it is not a GGUF model file (it does not start like one)';
  if (/^the file is empty/.test(reason)) return 'the file is empty';
  if (/truncated|extends past the end|past the end of the file/.test(reason)) return `the file is incomplete or damaged (${reason})`;
  return `the file is damaged or of an unsupported kind (${reason})`;
}

/**
 * Streams `source` into the models directory as `fileName`, after checking that it is a GGUF model that
 * llama.cpp can open. Throws model_exists, insufficient_disk_space, invalid_model (with the reason, naming
 * the file as the user called it) or aborted (the client went away); in every case the temporary file is gone.
 */
export async function importModel(opts: ImportModelOptions): Promise<InstalledModel> {
  const dest = resolveModelPath(opts.modelsDir, opts.fileName);
  const overwrite = opts.overwrite ?? false;
  if (!overwrite && (await exists(dest))) {
    opts.source.resume(); // drain what the client sends so it reads our answer instead of a reset
    throw exists409(opts.fileName);
  }
  await mkdir(opts.modelsDir, { recursive: true });
  if (opts.expectedSize !== undefined) {
    try {
      await checkSpace(opts.statfsImpl ?? ((p) => fsStatfs(p)), opts.modelsDir, opts.expectedSize, opts.diskMarginBytes ?? DEFAULT_DISK_MARGIN_BYTES);
    } catch (err) {
      opts.source.resume();
      throw err;
    }
  }

  const tmp = join(opts.modelsDir, tempName());
  try {
    try {
      await pipeline(opts.source, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') {
        throw new WestfallError('insufficient_disk_space', 'The disk filled up while the model was being imported; nothing was kept', {
          details: { dir: opts.modelsDir },
        });
      }
      if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ECONNABORTED') {
        throw new WestfallError('aborted', 'The upload stopped before the whole file arrived; nothing was kept', { cause: err });
      }
      throw err;
    }
    const size = (await stat(tmp)).size;
    if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
      throw new WestfallError('aborted', `The upload stopped after ${size} of ${opts.expectedSize} bytes; nothing was kept`, {
        details: { receivedBytes: size, expectedBytes: opts.expectedSize },
      });
    }
    try {
      await readGgufHeader(tmp);
    } catch (err) {
      if (!isWestfallError(err, 'invalid_model')) throw err;
      const reason = (err.details as { reason?: string } | undefined)?.reason ?? err.message;
      throw new WestfallError('invalid_model', `${opts.fileName} is not a usable GGUF model: ${plainReason(reason)}`, {
        details: { fileName: opts.fileName, reason },
      });
    }
    // Checked again: another import or download may have taken the name while this one was streaming.
    if (!overwrite && (await exists(dest))) throw exists409(opts.fileName);
    await rename(tmp, dest);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return describeModelFile(dest, opts.catalog);
}
