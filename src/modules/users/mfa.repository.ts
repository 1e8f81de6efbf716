import type { EntityManager } from '@mikro-orm/sql';

export interface TotpRow {
  user_id: string;
  secret_sealed: string;
  confirmed_at: Date | null;
}

/**
 * A user's second factor (user_totp, user_recovery_codes): global rows like users, so any
 * transaction may use them, the org-scoped ones of the management API included. Spending a
 * time step or a recovery code is one conditional UPDATE, so two requests cannot both spend it.
 */
export class MfaRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** The user's TOTP row, locked for the rest of the transaction: one code attempt at a time. */
  async lockTotp(userId: string): Promise<TotpRow | null> {
    const rows = await this.#em.execute<TotpRow[]>(
      'SELECT user_id, secret_sealed, confirmed_at FROM user_totp WHERE user_id = ? FOR UPDATE', [userId]);
    return rows[0] ?? null;
  }

  async isEnrolled(userId: string): Promise<boolean> {
    const rows = await this.#em.execute('SELECT 1 FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL', [userId]);
    return rows.length > 0;
  }

  /** Stores an unconfirmed secret, replacing an earlier unconfirmed one; false if one is confirmed. */
  async saveUnconfirmed(userId: string, secretSealed: string): Promise<boolean> {
    const rows = await this.#em.execute(
      `INSERT INTO user_totp (user_id, secret_sealed) VALUES (?, ?)
       ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, created_at = now(), last_used_step = NULL
         WHERE user_totp.confirmed_at IS NULL
       RETURNING user_id`,
      [userId, secretSealed],
    );
    return rows.length > 0;
  }

  /** Confirms the enrolment with the step of its first code, which is then spent. */
  async confirm(userId: string, step: number): Promise<void> {
    await this.#em.execute(
      'UPDATE user_totp SET confirmed_at = now(), last_used_step = ? WHERE user_id = ? AND confirmed_at IS NULL', [step, userId]);
  }

  /** Spends a time step: true only if no step as late was used before (RFC 6238 §5.2, replay). */
  async spendStep(userId: string, step: number): Promise<boolean> {
    const rows = await this.#em.execute(
      `UPDATE user_totp SET last_used_step = ?
        WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ?)
       RETURNING user_id`,
      [step, userId, step],
    );
    return rows.length > 0;
  }

  async replaceRecoveryCodes(userId: string, codeHashes: string[]): Promise<void> {
    await this.#em.execute('DELETE FROM user_recovery_codes WHERE user_id = ?', [userId]);
    await this.#em.execute(
      `INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ${codeHashes.map(() => '(?, ?)').join(', ')}`,
      codeHashes.flatMap((hash) => [userId, hash]),
    );
  }

  /** Spends a recovery code: true the first time only. */
  async spendRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
    const rows = await this.#em.execute(
      'UPDATE user_recovery_codes SET used_at = now() WHERE user_id = ? AND code_hash = ? AND used_at IS NULL RETURNING user_id',
      [userId, codeHash],
    );
    return rows.length > 0;
  }

  async remove(userId: string): Promise<void> {
    await this.#em.execute('DELETE FROM user_recovery_codes WHERE user_id = ?', [userId]);
    await this.#em.execute('DELETE FROM user_totp WHERE user_id = ?', [userId]);
  }

  /**
   * Whether `orgId` requires a second factor and the user's role there. Org rows: call it in
   * that org's transaction (row-level security shows no other).
   */
  async orgRule(orgId: string, userId: string): Promise<{ requireMfa: boolean; role: string } | null> {
    const rows = await this.#em.execute<{ require_mfa: boolean; role: string }[]>(
      'SELECT o.require_mfa, m.role FROM organizations o JOIN memberships m ON m.org_id = o.id WHERE o.id = ? AND m.user_id = ?',
      [orgId, userId],
    );
    const row = rows[0];
    return row ? { requireMfa: row.require_mfa, role: row.role } : null;
  }
}
