import type { Logger } from 'pino';
import { FlushTimer } from './flush-timer.ts';
import type { ApiKeyUsageRow, PlatformRepository } from '../modules/platform/platform.repository.ts';

export interface ApiKeyUsageOptions {
  /** How often the counts are written (one statement for every key used since the last time). */
  flushMs?: number;
  now?: () => number;
}

// Keys in one statement at most; a busier interval is written in several.
const maxKeysPerStatement = 1000;

/**
 * Per-key usage counts and last-used times (issue 6: batched, not a write per request). Each use
 * adds to an in-memory count; every few seconds the counts go to the database in one UPDATE.
 * Counts are lost if the process dies between flushes: they are statistics, not a ledger.
 */
export class ApiKeyUsage {
  readonly #platform: PlatformRepository;
  readonly #log: Logger;
  readonly #now: () => number;
  #counts = new Map<string, number>();
  #lastUsed = new Map<string, number>();
  readonly #timer: FlushTimer;

  constructor(platform: PlatformRepository, logger: Logger, opts: ApiKeyUsageOptions = {}) {
    this.#platform = platform;
    this.#log = logger;
    this.#timer = new FlushTimer(() => this.#flush(), opts.flushMs ?? 5_000);
    this.#now = opts.now ?? Date.now;
  }

  /** One use of the key, now. */
  count(keyId: string): void {
    this.#counts.set(keyId, (this.#counts.get(keyId) ?? 0) + 1);
    this.#lastUsed.set(keyId, this.#now());
  }

  start(): void {
    this.#timer.start();
  }

  /** Writes what was recorded so far (one flush at a time). */
  flushOnce(): Promise<void> {
    return this.#timer.flushOnce();
  }

  stop(): Promise<void> {
    return this.#timer.stop();
  }

  async #flush(): Promise<void> {
    if (this.#counts.size === 0) return;
    const counts = this.#counts;
    const lastUsed = this.#lastUsed;
    this.#counts = new Map();
    this.#lastUsed = new Map();
    const rows: ApiKeyUsageRow[] = [...counts].map(([id, count]) => ({ id, count, lastUsedAt: new Date(lastUsed.get(id)!) }));
    for (let i = 0; i < rows.length; i += maxKeysPerStatement) {
      const batch = rows.slice(i, i + maxKeysPerStatement);
      try {
        await this.#platform.addApiKeyUsage(batch);
      } catch (err) {
        this.#log.warn({ err, keys: batch.length }, 'api key usage: flush failed; the counts wait for the next one');
        for (const row of batch) this.#keep(row);
      }
    }
  }

  #keep(row: ApiKeyUsageRow): void {
    this.#counts.set(row.id, (this.#counts.get(row.id) ?? 0) + row.count);
    this.#lastUsed.set(row.id, Math.max(this.#lastUsed.get(row.id) ?? 0, row.lastUsedAt.getTime()));
  }
}
