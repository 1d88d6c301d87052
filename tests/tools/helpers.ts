// Shared setup of the personal-tools tests: temporary data directories with a real SQLite file, the
// services with a fast vault KDF, a bare Fastify app with the tools' plugins and the server's error
// handler, and generators of real audio files with tags.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import NodeID3 from 'node-id3';
import { errorsPlugin } from '../../src/server/errors.js';
import { createToolPlugins, type ToolPluginsOptions } from '../../src/server/routes/tool-plugins.js';
import { createToolServices, type ToolServices, type ToolServicesOptions } from '../../src/tools/index.js';

/** A cheap scrypt cost so tests run fast (production uses N = 2^17). */
export const FAST_KDF = { N: 2 ** 10, r: 8, p: 1 };

export function tempDir(prefix = 'westfall-tools-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function makeServices(dataDir: string, options: ToolServicesOptions = {}): ToolServices {
  return createToolServices(dataDir, { ...options, vault: { kdf: FAST_KDF, ...options.vault } });
}

/** A bare Fastify with the error handler and every tool plugin (as createApp would register them). */
export async function makeApp(services: ToolServices, options: ToolPluginsOptions & { manager?: unknown } = {}): Promise<FastifyInstance> {
  // As createApp: remaining keep-alive sockets are cut on close.
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, forceCloseConnections: true });
  await app.register(errorsPlugin);
  for (const plugin of createToolPlugins(services, { heartbeatMs: 60_000, ...options })) {
    await app.register(plugin, { config: {}, manager: options.manager });
  }
  await app.ready();
  return app;
}

export function json<T = any>(res: { body: string }): T {
  return JSON.parse(res.body) as T;
}

// ---------------------------------------------------------------------------------------------------
// Audio files

export interface Tags {
  title: string;
  artist: string;
  album: string;
  genre: string;
  track?: number;
}

export const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;

/** A WAV file (16-bit mono PCM silence) with a RIFF LIST/INFO tag block. */
export function writeWav(file: string, tags: Tags, seconds = 1, sampleRate = 8000): void {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  const sub = (id: string, text: string) => {
    const body = Buffer.from(`${text}\0`, 'latin1');
    const pad = body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0);
    const h = Buffer.alloc(8);
    h.write(id, 0, 'ascii');
    h.writeUInt32LE(body.length, 4);
    return Buffer.concat([h, body, pad]);
  };
  const info = Buffer.concat([
    Buffer.from('INFO', 'ascii'),
    sub('INAM', tags.title),
    sub('IART', tags.artist),
    sub('IPRD', tags.album),
    sub('IGNR', tags.genre),
    ...(tags.track !== undefined ? [sub('ITRK', String(tags.track))] : []),
  ]);
  const chunk = (id: string, body: Buffer) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'ascii');
    h.writeUInt32LE(body.length, 4);
    return Buffer.concat([h, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0); // PCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(sampleRate, 4);
  fmt.writeUInt32LE(sampleRate * 2, 8);
  fmt.writeUInt16LE(2, 12);
  fmt.writeUInt16LE(16, 14);
  const body = Buffer.concat([Buffer.from('WAVE', 'ascii'), chunk('fmt ', fmt), chunk('data', data), chunk('LIST', info)]);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, Buffer.concat([chunk('RIFF', body).subarray(0, 8), body]));
}

/**
 * An MP3 (MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono frames of silence) with an ID3v2 tag written by
 * node-id3. `frames` frames of 1152 samples: 100 frames ≈ 2.61 s.
 */
export function writeMp3(file: string, tags: Tags, frames = 100): void {
  const frameLength = Math.floor((144 * 128_000) / 44_100); // 417 bytes, no padding
  const frame = Buffer.alloc(frameLength);
  frame.writeUInt8(0xff, 0);
  frame.writeUInt8(0xfb, 1); // MPEG-1, Layer III, no CRC
  frame.writeUInt8(0x90, 2); // 128 kbit/s, 44.1 kHz, no padding
  frame.writeUInt8(0xc4, 3); // mono, original
  const audio = Buffer.concat(Array.from({ length: frames }, () => frame));
  const tagged = NodeID3.write(
    { title: tags.title, artist: tags.artist, album: tags.album, genre: tags.genre, ...(tags.track !== undefined ? { trackNumber: String(tags.track) } : {}) },
    audio,
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, tagged);
}

/** flac, ogg (Vorbis), m4a (AAC) or wav through ffmpeg: a sine tone with real tags. */
export function writeWithFfmpeg(file: string, tags: Tags, seconds = 1): void {
  const codec: Record<string, string[]> = {
    flac: ['-c:a', 'flac'],
    ogg: ['-c:a', 'libvorbis'],
    m4a: ['-c:a', 'aac', '-b:a', '64k'],
    wav: ['-c:a', 'pcm_s16le'],
    mp3: ['-c:a', 'libmp3lame'],
  };
  const ext = file.split('.').pop()!;
  mkdirSync(dirname(file), { recursive: true });
  execFileSync(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}:sample_rate=22050`,
      '-metadata', `title=${tags.title}`,
      '-metadata', `artist=${tags.artist}`,
      '-metadata', `album=${tags.album}`,
      '-metadata', `genre=${tags.genre}`,
      ...(tags.track !== undefined ? ['-metadata', `track=${tags.track}`] : []),
      ...(codec[ext] ?? []),
      file,
    ],
    { stdio: 'ignore' },
  );
}
