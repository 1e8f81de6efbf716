import type { EntityManager } from '@mikro-orm/sql';
import { toDate } from '../db/rows.ts';

export type SigningAlg = 'ES256' | 'RS256';

/** A key's place in time, without its private part. */
export interface SigningKeySchedule {
  kid: string;
  alg: SigningAlg;
  activatesAt: Date;
  retiresAt: Date | null;
}

export interface SigningKeyRow extends SigningKeySchedule {
  /** The secret-box sealing of the private JWK (associated data: the kid). */
  sealedJwk: string;
}

interface RawRow {
  kid: string;
  alg: SigningAlg;
  private_jwk?: string;
  activates_at: Date | string;
  retires_at: Date | string | null;
}

// Raw SQL: the table is global (no org), read and written in Database.withoutOrg transactions.
// Times are the caller's clock, passed in, so one rotation decides every time from one `now`.
export class SigningKeysRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /**
   * Serialises key changes across nodes for the rest of the transaction (two nodes starting at
   * once must not both create first keys). The mode conflicts with itself and with writes, not
   * with plain reads, so serving the JWKS never waits for a rotation.
   */
  async lock(): Promise<void> {
    await this.#em.execute('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
  }

  async schedule(): Promise<SigningKeySchedule[]> {
    const rows = await this.#em.execute<RawRow[]>('SELECT kid, alg, activates_at, retires_at FROM signing_keys');
    return rows.map(fromRaw);
  }

  async withSecrets(): Promise<SigningKeyRow[]> {
    const rows = await this.#em.execute<RawRow[]>('SELECT kid, alg, private_jwk, activates_at, retires_at FROM signing_keys');
    return rows.map((row) => ({ ...fromRaw(row), sealedJwk: row.private_jwk! }));
  }

  async insert(key: SigningKeyRow): Promise<void> {
    await this.#em.execute(
      'INSERT INTO signing_keys (kid, alg, private_jwk, activates_at, retires_at) VALUES (?, ?, ?, ?, ?)',
      [key.kid, key.alg, key.sealedJwk, key.activatesAt, key.retiresAt],
    );
  }

  async setRetiresAt(kid: string, retiresAt: Date): Promise<void> {
    await this.#em.execute('UPDATE signing_keys SET retires_at = ? WHERE kid = ?', [retiresAt, kid]);
  }

  /** Keys no longer published at `now`: every token they signed has expired. */
  async deleteRetired(now: Date): Promise<string[]> {
    const rows = await this.#em.execute<{ kid: string }[]>('DELETE FROM signing_keys WHERE retires_at <= ? RETURNING kid', [now]);
    return rows.map((r) => r.kid);
  }

  /** Keys that have not started signing at `now` (so no token carries them). */
  async deletePending(now: Date): Promise<string[]> {
    const rows = await this.#em.execute<{ kid: string }[]>('DELETE FROM signing_keys WHERE activates_at > ? RETURNING kid', [now]);
    return rows.map((r) => r.kid);
  }
}

function fromRaw(row: RawRow): SigningKeySchedule {
  return { kid: row.kid, alg: row.alg, activatesAt: toDate(row.activates_at), retiresAt: toDate(row.retires_at) };
}
