import type { EntityManager } from '@mikro-orm/sql';

export class SignInAttemptsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** Failures counted for each key in its current window (a lapsed window counts 0). */
  async failures(keys: string[], windowSeconds: number): Promise<Map<string, number>> {
    const rows = await this.#em.execute<{ key: string; failures: number }[]>(
      `SELECT key, failures FROM sign_in_attempts WHERE key IN (?) AND window_start > now() - make_interval(secs => ?)`,
      [keys, windowSeconds],
    );
    return new Map(rows.map((r) => [r.key, Number(r.failures)]));
  }

  /**
   * One more failure for each key; a lapsed window starts again at 1. Returns each key's count
   * after this failure, read in the same statement (concurrent failures each see their own).
   */
  async addFailure(keys: string[], windowSeconds: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const key of keys) {
      const rows = await this.#em.execute<{ failures: number }[]>(
        `INSERT INTO sign_in_attempts (key, window_start, failures) VALUES (?, now(), 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN sign_in_attempts.window_start > now() - make_interval(secs => ?) THEN sign_in_attempts.failures + 1 ELSE 1 END,
           window_start = CASE WHEN sign_in_attempts.window_start > now() - make_interval(secs => ?) THEN sign_in_attempts.window_start ELSE now() END
         RETURNING failures`,
        [key, windowSeconds, windowSeconds],
      );
      counts.set(key, Number(rows[0]?.failures ?? 0));
    }
    return counts;
  }

  /**
   * Deletes up to `limit` counters whose window started over `olderThanSeconds` ago (longer than
   * any window counted here) and returns how many; SKIP LOCKED as the other sweeps.
   */
  async deleteLapsed(olderThanSeconds: number, limit: number): Promise<number> {
    const rows = await this.#em.execute<{ deleted: number }[]>(
      `WITH gone AS (
         DELETE FROM sign_in_attempts WHERE key IN (
           SELECT key FROM sign_in_attempts WHERE window_start < now() - make_interval(secs => ?)
           LIMIT ? FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT count(*)::int AS deleted FROM gone`,
      [olderThanSeconds, limit],
    );
    return rows[0]?.deleted ?? 0;
  }

  async clear(key: string): Promise<void> {
    await this.#em.execute('DELETE FROM sign_in_attempts WHERE key = ?', [key]);
  }
}
