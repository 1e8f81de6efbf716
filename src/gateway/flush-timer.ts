/**
 * The gateway's batched writes (usage counts, denial tallies): `flush` runs every `intervalMs`
 * and on demand, one run at a time and in order, so a flushOnce() writes everything recorded
 * before it was called. stop() ends the timer and flushes what is left. `flush` handles its own
 * errors (it keeps or logs what it could not write): a rejection here would be unhandled.
 */
export class FlushTimer {
  readonly #flush: () => Promise<void>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(flush: () => Promise<void>, intervalMs: number) {
    this.#flush = flush;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flushOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  flushOnce(): Promise<void> {
    this.#flushing = this.#flushing.then(this.#flush);
    return this.#flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flushOnce();
  }
}
