// Streams in flight (WebSocket requests, SSE responses), so shutdown can wait until each has sent its
// final message before the server closes its sockets.
export class ActiveStreams {
  #tasks = new Set<Promise<unknown>>();

  /** Tracks a stream's task until it settles. */
  track<T>(task: Promise<T>): Promise<T> {
    const settled = task.then(
      () => {},
      () => {},
    );
    this.#tasks.add(settled);
    void settled.then(() => this.#tasks.delete(settled));
    return task;
  }

  get size(): number {
    return this.#tasks.size;
  }

  /** Resolves true once every tracked stream has ended, or false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#tasks.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#tasks]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }
}
