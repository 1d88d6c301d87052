// The audio files the library reads and serves.
import path from 'node:path';

export const AUDIO_FORMATS = {
  '.mp3': { format: 'mp3', mime: 'audio/mpeg' },
  '.flac': { format: 'flac', mime: 'audio/flac' },
  '.ogg': { format: 'ogg', mime: 'audio/ogg' },
  '.oga': { format: 'ogg', mime: 'audio/ogg' },
  '.opus': { format: 'opus', mime: 'audio/ogg' },
  '.m4a': { format: 'm4a', mime: 'audio/mp4' },
  '.wav': { format: 'wav', mime: 'audio/wav' },
} as const satisfies Record<string, { format: string; mime: string }>;

export type AudioExtension = keyof typeof AUDIO_FORMATS;

export function audioFormatOf(file: string): { format: string; mime: string } | null {
  const ext = path.extname(file).toLowerCase();
  return (AUDIO_FORMATS as Record<string, { format: string; mime: string }>)[ext] ?? null;
}
