// Browser sign-in that survives restarts: one secret in the data directory signs the one-time login codes
// and the session cookies, so a backend started again (new process, new per-launch API token) still
// recognises the browsers that signed in before, and `westfall login-link` (another process) can mint a
// code the running backend accepts. Rotating the secret ("sign out everywhere") ends every session and
// every unused link at once; nothing else needs to be stored.
//
//   const secret = SessionSecret.open(config.stateDir);        // <dataDir>/state/session-secret, mode 0600
//   const logins = new LoginCodes({ secret });
//   const code = logins.issue();                               // print `${url}/#login=${code}`
//   logins.redeem(code);                                       // true once
//   const cookie = issueSessionCookie(secret);                 // Set-Cookie value after a redeemed code
//   verifySessionCookie(secret, cookie);                       // { issuedAt } | null
//
// Codes and cookies are base64url(version | issued-at ms (6 bytes) | nonce (16) | HMAC-SHA256 over the
// rest, under a purpose label), so a code can never be used as a cookie or the reverse.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WestfallError } from '../errors.js';

export const SESSION_SECRET_FILE = 'session-secret';
/** A browser session lasts this long after sign-in; GET /api/session renews it. */
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;
/** Sessions older than this get a fresh cookie when the page asks for its session. */
export const SESSION_RENEW_AFTER_MS = 24 * 3600_000;

const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
const VERSION = 1;
const NONCE_BYTES = 16;

/** The signing secret, kept in a file only its owner can read; `rotate()` replaces it. */
export class SessionSecret {
  readonly file: string | null;
  #key: Buffer;

  private constructor(file: string | null, key: Buffer) {
    this.file = file;
    this.#key = key;
  }

  /**
   * Reads `<dir>/session-secret`, creating it (mode 0600) when missing or unreadable as a secret. A file
   * others can read is narrowed to 0600: the secret signs sign-ins, like a password.
   */
  static open(dir: string): SessionSecret {
    const file = path.join(dir, SESSION_SECRET_FILE);
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null && SECRET_RE.test(text)) {
      if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return new SessionSecret(file, Buffer.from(text, 'base64url'));
    }
    const s = new SessionSecret(file, randomBytes(32));
    // Two backends starting together on one data directory must end up with the same secret: only the
    // first to create the file wins (link fails when it exists), the other reads the winner's.
    if (text === null && !s.#write(true)) return SessionSecret.read(dir) ?? s;
    if (text !== null) s.#write();
    return s;
  }

  /** Reads the secret another process (the running backend) created; null when there is none yet. */
  static read(dir: string): SessionSecret | null {
    const file = path.join(dir, SESSION_SECRET_FILE);
    try {
      const text = readFileSync(file, 'utf8').trim();
      return SECRET_RE.test(text) ? new SessionSecret(file, Buffer.from(text, 'base64url')) : null;
    } catch {
      return null;
    }
  }

  /** A secret that lives only in memory (tests, embedding without a data directory). */
  static ephemeral(): SessionSecret {
    return new SessionSecret(null, randomBytes(32));
  }

  /** Replaces the secret: every cookie and unused login code signed with the old one stops working. */
  rotate(): void {
    this.#key = randomBytes(32);
    this.#write();
  }

  /** Follows a rotation made by another process on the same file (cheap: one small read). */
  reload(): void {
    if (!this.file) return;
    try {
      const text = readFileSync(this.file, 'utf8').trim();
      if (SECRET_RE.test(text)) this.#key = Buffer.from(text, 'base64url');
    } catch {
      /* keep the one in memory */
    }
  }

  mac(purpose: string, data: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(purpose).update('\0').update(data).digest();
  }

  /** Writes the secret; with `exclusive`, only when no file exists yet (false when one did). */
  #write(exclusive = false): boolean {
    if (!this.file) return true;
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    // Written beside and then linked or renamed into place, so a reader never sees half a secret;
    // created 0600 (whatever the umask), never widened.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${this.#key.toString('base64url')}\n`, { mode: 0o600 });
    if (process.platform !== 'win32') chmodSync(tmp, 0o600);
    if (!exclusive) {
      renameSync(tmp, this.file);
      return true;
    }
    try {
      linkSync(tmp, this.file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return false;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}

type Purpose = 'login-code' | 'session-cookie';
const MAC_BYTES: Record<Purpose, number> = { 'login-code': 16, 'session-cookie': 32 };

function sign(secret: SessionSecret, purpose: Purpose, issuedAt: number): string {
  const body = Buffer.alloc(1 + 6 + NONCE_BYTES);
  body.writeUInt8(VERSION, 0);
  body.writeUIntBE(Math.max(0, Math.floor(issuedAt)), 1, 6);
  randomBytes(NONCE_BYTES).copy(body, 7);
  return Buffer.concat([body, secret.mac(purpose, body).subarray(0, MAC_BYTES[purpose])]).toString('base64url');
}

function open(secret: SessionSecret, purpose: Purpose, value: string): { issuedAt: number; nonce: string } | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return null;
  const raw = Buffer.from(value, 'base64url');
  const macBytes = MAC_BYTES[purpose];
  if (raw.length !== 1 + 6 + NONCE_BYTES + macBytes || raw.readUInt8(0) !== VERSION) return null;
  const body = raw.subarray(0, 7 + NONCE_BYTES);
  const expected = secret.mac(purpose, body).subarray(0, macBytes);
  if (!timingSafeEqual(expected, raw.subarray(7 + NONCE_BYTES))) return null;
  return { issuedAt: body.readUIntBE(1, 6), nonce: body.subarray(7).toString('hex') };
}

export interface LoginCodesOptions {
  /** Signs the codes; default: an in-memory secret (codes then only work in this process). */
  secret?: SessionSecret;
  /** How long an issued code stays valid. Default: 15 minutes. */
  ttlMs?: number;
  now?: () => number;
}

/**
 * One-time login codes. A code is signed, so any process holding the secret can issue one; this object
 * remembers the codes redeemed while they could still be valid, and refuses codes issued before it was
 * created, which a previous run of the backend may already have redeemed.
 */
export class LoginCodes {
  readonly ttlMs: number;
  readonly secret: SessionSecret;
  readonly #now: () => number;
  readonly #notBefore: number;
  readonly #used = new Map<string, number>(); // nonce → expiry

  constructor(opts: LoginCodesOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 15 * 60_000;
    this.secret = opts.secret ?? SessionSecret.ephemeral();
    this.#now = opts.now ?? Date.now;
    this.#notBefore = this.#now();
  }

  issue(): string {
    return sign(this.secret, 'login-code', this.#now());
  }

  /** True once for a valid code; false for a forged, expired, reused or earlier-run code. */
  redeem(code: string): boolean {
    const now = this.#now();
    for (const [nonce, expiry] of this.#used) if (expiry <= now) this.#used.delete(nonce);
    let opened = open(this.secret, 'login-code', code);
    if (!opened) {
      // `westfall login-link` signs with the file's secret; another process may have rotated it.
      this.secret.reload();
      opened = open(this.secret, 'login-code', code);
    }
    if (!opened) return false;
    const expiry = opened.issuedAt + this.ttlMs;
    if (opened.issuedAt < this.#notBefore || expiry <= now || this.#used.has(opened.nonce)) return false;
    this.#used.set(opened.nonce, expiry);
    return true;
  }
}

/** A new session cookie value (after a redeemed login code or a valid token). */
export function issueSessionCookie(secret: SessionSecret, now = Date.now()): string {
  return sign(secret, 'session-cookie', now);
}

/** The cookie's issue time when it is ours, under the current secret, and not older than the session lifetime. */
export function verifySessionCookie(secret: SessionSecret, value: string | undefined, now = Date.now()): { issuedAt: number } | null {
  if (!value) return null;
  const opened = open(secret, 'session-cookie', value);
  if (!opened || opened.issuedAt > now + 60_000 || now - opened.issuedAt > SESSION_MAX_AGE_S * 1000) return null;
  return { issuedAt: opened.issuedAt };
}

/**
 * The cookie's name for a port. Browsers share cookies between all ports of 127.0.0.1, so two backends
 * (the desktop app's and `npm start`'s) would otherwise overwrite each other's session.
 */
export function sessionCookieName(port: string | null): string {
  return `westfall_session_${port ?? '80'}`;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session: httpOnly (page scripts never see it), SameSite=Strict (no cross-site sends). */
export function sessionSetCookie(name: string, value: string): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MAX_AGE_S}`;
}

export function clearSessionCookie(name: string): string {
  return `${name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** What a signed-out browser is told, wherever it was refused. */
export const SIGN_IN_HINT =
  'open the login link that `npm start` (or `westfall serve`) printed in its terminal, or run `npx westfall login-link` for a new one';

export function notSignedIn(message = `not signed in: ${SIGN_IN_HINT}`): WestfallError {
  return new WestfallError('unauthorized', message);
}
