// Buffered positioned reads over a file handle. A GGUF header can hold 300k short strings, so reads are served
// synchronously from a sliding buffer and only a refill awaits the file system.

import type { FileHandle } from 'node:fs/promises';

export type Label = string | (() => string);
export const labelText = (l: Label): string => (typeof l === 'string' ? l : l());

// Thrown inside the parser and turned into a WestfallError with the path at the top.
export class FormatError extends Error {}

/** Positioned, chunked reads with a sliding buffer: awaits only when the buffer runs dry. */
export class ChunkReader {
  private buf: Buffer;
  private bufStart = 0; // file offset of buf[0]
  private pos = 0; // read position inside buf
  private end = 0; // valid bytes in buf

  constructor(
    private readonly fh: FileHandle,
    readonly fileSize: number,
    chunkSize: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(64, Math.min(chunkSize, fileSize)));
  }

  get offset(): number {
    return this.bufStart + this.pos;
  }

  get remaining(): number {
    return this.fileSize - this.offset;
  }

  /** Makes n bytes readable synchronously; n must already be known to fit in memory. */
  async ensure(n: number, what: Label): Promise<void> {
    if (this.end - this.pos >= n) return;
    if (n > this.remaining) {
      throw new FormatError(
        `unexpected end of file at offset ${this.offset} while reading ${labelText(what)} ` +
          `(needs ${n} bytes, ${this.remaining} left)`,
      );
    }
    const keep = this.end - this.pos;
    const want = Math.max(n, Math.min(this.buf.length, this.remaining));
    if (want > this.buf.length) {
      const bigger = Buffer.allocUnsafe(want);
      this.buf.copy(bigger, 0, this.pos, this.end);
      this.buf = bigger;
    } else {
      this.buf.copy(this.buf, 0, this.pos, this.end);
    }
    this.bufStart += this.pos;
    this.pos = 0;
    this.end = keep;
    while (this.end < want) {
      const { bytesRead } = await this.fh.read(this.buf, this.end, want - this.end, this.bufStart + this.end);
      if (bytesRead === 0) throw new FormatError(`file shrank while reading ${labelText(what)}`);
      this.end += bytesRead;
    }
  }

  /** Copies into dst, refilling as needed, so large arrays never need a second full-size buffer. */
  async readInto(dst: Uint8Array, what: Label): Promise<void> {
    let done = 0;
    while (done < dst.length) {
      if (this.end === this.pos) await this.ensure(Math.min(dst.length - done, this.buf.length), what);
      const n = Math.min(dst.length - done, this.end - this.pos);
      dst.set(this.buf.subarray(this.pos, this.pos + n), done);
      this.pos += n;
      done += n;
    }
  }

  u8(): number {
    return this.buf[this.pos++]!;
  }
  i8(): number {
    return this.buf.readInt8(this.pos++);
  }
  u16(): number {
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  i16(): number {
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f32(): number {
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A u64 that is a size or count: returned as a number, or as -1 when it exceeds 2^53 (certainly too big). */
  size(): number {
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi >= 0x200000 ? -1 : hi * 0x1_0000_0000 + lo;
  }
  /** The u64 just read by size(), exactly, for error messages. */
  lastU64(): bigint {
    return this.buf.readBigUInt64LE(this.pos - 8);
  }
  /** A whole string when it is already buffered; undefined sends the caller to the checked async path. */
  tryString(maxLength: number): string | undefined {
    const avail = this.end - this.pos;
    if (avail < 8) return undefined;
    const hi = this.buf.readUInt32LE(this.pos + 4);
    const len = this.buf.readUInt32LE(this.pos);
    if (hi !== 0 || len > avail - 8 || len > maxLength) return undefined;
    const s = this.buf.toString('utf8', this.pos + 8, this.pos + 8 + len);
    this.pos += 8 + len;
    return s;
  }
  utf8(n: number): string {
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
