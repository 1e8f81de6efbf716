import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { PeriodicJob } from '../db/periodic-job.ts';
import type { EntityManager } from '@mikro-orm/sql';
import { SignInAttemptsRepository } from './interactions/sign-in-attempts.repository.ts';
import { OidcModelsRepository } from './oidc-models.repository.ts';

/** Longer than any window the sign-in counters use (15 minutes, an hour). */
const lapsedCounterSeconds = 24 * 3600;

/** Each kind of row that outlives its use: a batch delete that returns how many went. */
const sweeps: Array<(em: EntityManager, limit: number) => Promise<number>> = [
  (em, limit) => new OidcModelsRepository(em).deleteExpired(limit),
  (em, limit) => new SignInAttemptsRepository(em).deleteLapsed(lapsedCounterSeconds, limit),
  // SSO requests and answers past their expiry; replay-cache entries of assertions that expired.
  (em, limit) => deleteExpiredRows(em, 'sso_requests', 'id', limit),
  (em, limit) => deleteExpiredRows(em, 'saml_assertions_seen', 'ctid', limit),
];

async function deleteExpiredRows(em: EntityManager, table: 'sso_requests' | 'saml_assertions_seen', key: 'id' | 'ctid', limit: number): Promise<number> {
  const rows = await em.execute(
    `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at < now() LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING 1`,
    [limit],
  );
  return rows.length;
}

export interface ExpirySweeperOptions {
  db: Database;
  logger: Logger;
  /** Wait between sweeps. */
  intervalMs?: number;
  /** Rows deleted per transaction: small batches keep each delete's locks short. */
  batchSize?: number;
}

/**
 * Deletes oidc_models rows past their expiry, sign-in counters of long-lapsed windows, and
 * expired SSO requests and replay-cache entries. Reads already ignore them all, so this only
 * keeps the tables small; running it on every node is safe (each batch skips rows another node
 * holds).
 */
export class ExpirySweeper {
  readonly #db: Database;
  readonly #batchSize: number;
  readonly #job: PeriodicJob<number>;

  constructor(opts: ExpirySweeperOptions) {
    this.#db = opts.db;
    this.#batchSize = opts.batchSize ?? 1_000;
    this.#job = new PeriodicJob({
      name: 'expiry sweep', intervalMs: opts.intervalMs ?? 60_000, logger: opts.logger,
      run: () => this.#sweep(), summary: (deleted) => (deleted > 0 ? { deleted } : null),
    });
  }

  /** One sweep, batch after batch until a batch comes back short; resolves to the rows deleted. */
  sweepOnce(): Promise<number> {
    return this.#job.runOnce();
  }

  start(): void {
    this.#job.start();
  }

  /** Stops the timer and waits for a sweep in progress (it ends after its current batch). */
  stop(): Promise<void> {
    return this.#job.stop();
  }

  async #sweep(): Promise<number> {
    let total = 0;
    for (const sweep of sweeps) {
      for (;;) {
        const deleted = await this.#db.withoutOrg((em) => sweep(em, this.#batchSize));
        total += deleted;
        // A backlog can take many batches: stop() does not wait for all of them.
        if (deleted < this.#batchSize || this.#job.stopping) break;
      }
    }
    return total;
  }
}
