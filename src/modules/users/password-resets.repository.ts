import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';

export type ResetState = 'live' | 'used' | 'expired';

export interface ResetRow {
  id: string;
  user_id: string;
  state: ResetState;
}

// Times come from the database clock, so nodes with skewed clocks agree on what has expired.
const STATE = `CASE WHEN used_at IS NOT NULL THEN 'used' WHEN expires_at <= now() THEN 'expired' ELSE 'live' END AS state`;

/** The password_resets table (migration 0008). Tokens are only ever handled as their hashes. */
export class PasswordResetsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /**
   * Locks the user's row until the transaction ends, so that concurrent requests for one account
   * count its recent resets one after another (the mail limit cannot be raced past).
   */
  async lockUser(userId: string): Promise<void> {
    await this.#em.execute('SELECT id FROM users WHERE id = ? FOR UPDATE', [userId]);
  }

  /** Resets issued to the user in the last `seconds`, used or not. */
  async countSince(userId: string, seconds: number): Promise<number> {
    const rows = await this.#em.execute<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM password_resets WHERE user_id = ? AND created_at > now() - make_interval(secs => ?)',
      [userId, seconds],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async create(userId: string, tokenHash: string, ttlSeconds: number): Promise<void> {
    await this.#em.execute(
      `INSERT INTO password_resets (id, user_id, token_hash, expires_at) VALUES (?, ?, ?, now() + make_interval(secs => ?))`,
      [uuidv7(), userId, tokenHash, ttlSeconds],
    );
  }

  async findByTokenHash(tokenHash: string): Promise<ResetRow | null> {
    const rows = await this.#em.execute<ResetRow[]>(`SELECT id, user_id, ${STATE} FROM password_resets WHERE token_hash = ?`, [tokenHash]);
    return rows[0] ?? null;
  }

  /**
   * Marks a live token used and returns it; null if it is not live. One statement: of two
   * submissions at once, the second waits on the row lock, then finds it used, so exactly one wins.
   */
  async consume(tokenHash: string): Promise<{ id: string; user_id: string } | null> {
    const rows = await this.#em.execute<{ id: string; user_id: string }[]>(
      `UPDATE password_resets SET used_at = now()
        WHERE token_hash = ? AND used_at IS NULL AND expires_at > now()
        RETURNING id, user_id`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Every other live token of the user ends now (expired, not used: none of them was). */
  async retireOthers(userId: string, keptId: string): Promise<void> {
    await this.#em.execute(
      'UPDATE password_resets SET expires_at = now() WHERE user_id = ? AND id <> ? AND used_at IS NULL AND expires_at > now()',
      [userId, keptId],
    );
  }
}
