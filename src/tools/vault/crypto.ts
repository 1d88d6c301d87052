// The vault's cryptography, all from node:crypto. The master password is stretched with scrypt (N, r, p
// and the salt are stored) into 64 bytes: the first 32 are the AES-256-GCM key, the last 32 feed the
// verifier (their SHA-256), which tells a wrong password apart from a damaged record. Every record is
// sealed with a fresh 96-bit nonce and bound to its id through the additional authenticated data, so a
// ciphertext moved to another row fails its check like any other tampering.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ToolError } from '../errors.js';

export interface KdfParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
  salt: Buffer;
}

/** OWASP's scrypt recommendation (128 MiB, a few hundred milliseconds). */
export const DEFAULT_KDF = { N: 2 ** 17, r: 8, p: 1 } as const;

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SALT_BYTES = 16;

export interface DerivedKey {
  /** AES-256-GCM key. */
  key: Buffer;
  /** SHA-256 of the verifier half; compared with the stored one. */
  verifier: Buffer;
}

export function newSalt(): Buffer {
  return randomBytes(SALT_BYTES);
}

export function checkKdfParams(p: { N: number; r: number; p: number }): void {
  const pow2 = Number.isInteger(p.N) && p.N >= 2 ** 10 && p.N <= 2 ** 22 && (p.N & (p.N - 1)) === 0;
  if (!pow2 || !Number.isInteger(p.r) || p.r < 1 || p.r > 32 || !Number.isInteger(p.p) || p.p < 1 || p.p > 16) {
    throw new ToolError('invalid_params', 'scrypt parameters out of range (N a power of two in 2^10..2^22, r 1..32, p 1..16)');
  }
}

/** scrypt on the libuv thread pool (the event loop keeps serving requests meanwhile). */
export function deriveKey(password: string, params: KdfParams): Promise<DerivedKey> {
  checkKdfParams(params);
  const maxmem = 128 * params.N * params.r * (params.p + 2) + 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), params.salt, KEY_BYTES * 2, { N: params.N, r: params.r, p: params.p, maxmem }, (err, out) => {
      if (err) return reject(err);
      const key = Buffer.from(out.subarray(0, KEY_BYTES));
      const verifier = createHash('sha256').update(out.subarray(KEY_BYTES)).digest();
      out.fill(0);
      resolve({ key, verifier });
    });
  });
}

export function verifierMatches(derived: DerivedKey, stored: Buffer): boolean {
  return stored.length === derived.verifier.length && timingSafeEqual(stored, derived.verifier);
}

export interface Sealed {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts and authenticates; any change to nonce, ciphertext, tag or aad is vault_tampered. */
export function open(key: Buffer, sealed: Sealed, aad: string, what = 'record'): Buffer {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw new ToolError('vault_tampered', `vault ${what} is damaged (bad nonce or tag length)`, { details: { record: what } });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new ToolError('vault_tampered', `vault ${what} failed its integrity check; it was changed or is corrupt, and was not decrypted`, {
      details: { record: what },
    });
  }
}
