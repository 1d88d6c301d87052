// API keys at rest: sealed with the vault's AES-256-GCM primitives (tools/vault/crypto.ts) under a random
// 32-byte key kept in the data folder with 0600 permissions. The vault's own key comes from a master
// password the user types; provider keys must work unattended after a restart, so this key is a file
// readable only by the user, like ssh keys, and the database alone (a backup, a synced copy) does not
// reveal them. Each key is bound to its provider id (AAD), so a sealed key moved to another row fails.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_BYTES, open, seal } from '../tools/vault/crypto.js';

export const KEY_FILE = 'provider-keys.key';

export class SecretBox {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Reads `<dir>/provider-keys.key`, creating it (0600) the first time. */
  static open(dir: string): SecretBox {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, KEY_FILE);
    let key: Buffer;
    try {
      key = readFileSync(file);
      if (key.length !== KEY_BYTES) throw new Error(`${file} is damaged (${key.length} bytes, not ${KEY_BYTES})`);
      // A copy restored without its mode must not stay readable by others.
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      key = randomBytes(KEY_BYTES);
      writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
    }
    return new SecretBox(key);
  }

  /** For tests and callers that keep the key elsewhere. */
  static fromKey(key: Buffer): SecretBox {
    return new SecretBox(Buffer.from(key));
  }

  seal(id: string, secret: string): Buffer {
    const s = seal(this.#key, Buffer.from(secret, 'utf8'), `provider:${id}`);
    return Buffer.concat([s.nonce, s.tag, s.ciphertext]);
  }

  open(id: string, blob: Buffer): string {
    const sealed = { nonce: blob.subarray(0, 12), tag: blob.subarray(12, 28), ciphertext: blob.subarray(28) };
    return open(this.#key, sealed, `provider:${id}`, `provider ${id} API key`).toString('utf8');
  }
}
