// A cheap check that a configured model is a GGUF file, made at start so that a wrong file (a .safetensors,
// an HTML page saved by a browser, a half-written download) is refused with one clear message instead of
// the backend starting and then logging a load failure.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const GGUF_MAGIC = 'GGUF';

/** Why `file` is not a loadable GGUF model file, or null when it looks like one (magic bytes only). */
export function modelFileProblem(file: string): string | null {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return `${file} is not a file`;
    size = st.size;
  } catch {
    return `no model file at ${file}`;
  }
  const head = Buffer.alloc(4);
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    readSync(fd, head, 0, 4, 0);
  } catch (err) {
    return `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  } finally {
    if (fd !== null) closeSync(fd);
  }
  if (size < 4 || head.toString('latin1') !== GGUF_MAGIC) {
    const ext = /\.([A-Za-z0-9]{1,12})$/.exec(file)?.[1];
    const hint = ext && ext.toLowerCase() !== 'gguf' ? ` (a .${ext} file)` : '';
    return `${file} is not a GGUF model${hint}: Westfall loads .gguf files (llama.cpp's format); download one from the catalog in the app or convert the model to GGUF`;
  }
  return null;
}
