// The play queue and now-playing state, shared by the app and the model. The app plays the audio (it
// streams /api/music/tracks/:id/stream) and follows 'change' events; this object is the one truth of what
// is queued, which item is current and whether it plays.
import { EventEmitter } from 'node:events';
import { ToolError } from '../errors.js';
import type { Track, Tracks } from './tracks.js';
import type { PlayerState } from './types.js';

export type { PlayerState } from './types.js';

export interface PlayerEvents {
  change: [PlayerState];
}

export const MAX_QUEUE = 10_000;

export class Player extends EventEmitter<PlayerEvents> {
  #queue: Track[] = [];
  #index = -1;
  #playing = false;
  #version = 0;

  constructor(private readonly tracks: Tracks) {
    super();
  }

  state(): PlayerState {
    const now = this.#index >= 0 ? (this.#queue[this.#index] ?? null) : null;
    return { queue: [...this.#queue], index: this.#index, nowPlaying: now, playing: this.#playing && now !== null, version: this.#version };
  }

  #changed(): PlayerState {
    this.#version++;
    const s = this.state();
    this.emit('change', s);
    return s;
  }

  /**
   * Plays: with a track, puts it right after the current item and makes it current; with a queue index,
   * jumps there; with neither, resumes (or starts the queue).
   */
  play(options: { trackId?: number; index?: number } = {}): PlayerState {
    if (options.trackId !== undefined) {
      const t = this.tracks.get(options.trackId);
      this.#checkRoom(1);
      const at = this.#index + 1;
      this.#queue.splice(at, 0, t);
      this.#index = at;
    } else if (options.index !== undefined) {
      if (options.index < 0 || options.index >= this.#queue.length) throw new ToolError('invalid_params', `index ${options.index} is not in the queue (${this.#queue.length} items)`);
      this.#index = options.index;
    } else if (this.#index < 0) {
      if (this.#queue.length === 0) throw new ToolError('invalid_params', 'the queue is empty; queue or play a track first');
      this.#index = 0;
    }
    this.#playing = true;
    return this.#changed();
  }

  pause(): PlayerState {
    this.#playing = false;
    return this.#changed();
  }

  /** Next item; past the end the player stops. */
  next(): PlayerState {
    if (this.#index + 1 < this.#queue.length) this.#index++;
    else {
      this.#index = this.#queue.length > 0 ? this.#queue.length - 1 : -1;
      this.#playing = false;
    }
    return this.#changed();
  }

  previous(): PlayerState {
    if (this.#index > 0) this.#index--;
    return this.#changed();
  }

  /** Adds tracks at the end of the queue, or right after the current item with `next`. */
  enqueue(trackIds: number[], options: { next?: boolean } = {}): PlayerState {
    const items = trackIds.map((id) => this.tracks.get(id));
    this.#checkRoom(items.length);
    if (options.next) this.#queue.splice(this.#index + 1, 0, ...items);
    else this.#queue.push(...items);
    return this.#changed();
  }

  /** Removes the item at a queue index. */
  remove(index: number): PlayerState {
    if (index < 0 || index >= this.#queue.length) throw new ToolError('invalid_params', `index ${index} is not in the queue`);
    this.#queue.splice(index, 1);
    if (index < this.#index) this.#index--;
    else if (index === this.#index) {
      if (this.#index >= this.#queue.length) this.#index = this.#queue.length - 1;
      if (this.#index < 0) this.#playing = false;
    }
    return this.#changed();
  }

  clear(): PlayerState {
    this.#queue = [];
    this.#index = -1;
    this.#playing = false;
    return this.#changed();
  }

  /** Drops tracks that left the library (after a rescan). */
  prune(): void {
    const before = this.#queue.length;
    const current = this.#queue[this.#index];
    this.#queue = this.#queue.filter((t) => this.tracks.find(t.id) !== null);
    if (this.#queue.length === before) return;
    this.#index = current ? this.#queue.indexOf(current) : -1;
    if (this.#index < 0) this.#playing = false;
    this.#changed();
  }

  #checkRoom(n: number): void {
    if (this.#queue.length + n > MAX_QUEUE) throw new ToolError('invalid_params', `the queue holds at most ${MAX_QUEUE} items`);
  }
}
