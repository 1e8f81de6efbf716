import type { Logger } from 'pino';

export interface PeriodicJobOptions<T> {
  /** For the log. */
  name: string;
  intervalMs: number;
  logger: Logger;
  /** One run; long runs check `job.stopping` between their units of work. */
  run: () => Promise<T>;
  /** Logged at debug after a run, when it has something to say. */
  summary?: (result: T) => object | null;
}

/**
 * A background job every node runs on a timer (the expiry sweeper, the metadata refresher).
 * One run at a time: a caller asking while one is in hand shares it. No error escapes the timer:
 * it is logged and the next run happens. stop() waits for the run in hand.
 */
export class PeriodicJob<T> {
  readonly #opts: PeriodicJobOptions<T>;
  #current: Promise<T> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopping = false;

  constructor(opts: PeriodicJobOptions<T>) {
    this.#opts = opts;
  }

  /** True while stop() waits: a run should end after its current unit of work. */
  get stopping(): boolean {
    return this.#stopping;
  }

  runOnce(): Promise<T> {
    this.#current ??= this.#opts.run().finally(() => { this.#current = null; });
    return this.#current;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopping = true;
    try {
      await this.#current?.catch(() => undefined);
    } finally {
      this.#stopping = false;
    }
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      const result = await this.runOnce();
      const summary = this.#opts.summary?.(result);
      if (summary) this.#opts.logger.debug(summary, `${this.#opts.name} done`);
    } catch (err) {
      this.#opts.logger.error({ err }, `${this.#opts.name} failed`);
    }
    this.#schedule(this.#opts.intervalMs);
  }
}
