import type { EntityManager } from '@mikro-orm/sql';

/** What oidc-provider hands the adapter to keep: a plain JSON object. */
export type StoredPayload = Record<string, unknown>;

interface PayloadRow {
  payload: StoredPayload;
  /** consumed_at in epoch seconds, the form oidc-provider gives `consumed` itself. */
  consumed: number | null;
}

// SQL text is the same on node-postgres and PGlite. Times come from the database clock, so nodes
// with skewed clocks agree on what has expired. Values are inlined by MikroORM (escaped): a NUL
// character cannot travel in SQL text at all, so keys holding one are refused before a query.
const PAYLOAD = `payload, floor(extract(epoch FROM consumed_at))::float8 AS consumed`;
const LIVE = `(expires_at IS NULL OR expires_at > now())`;

/** A key PostgreSQL text can hold. Ids come from clients (codes, tokens, client_id), so expect anything. */
function storable(key: unknown): key is string {
  return typeof key === 'string' && !key.includes('\0');
}

function indexed(value: unknown): string | null {
  return storable(value) ? value : null;
}

/** The payload as oidc-provider expects it back: `consumed` set once the row is consumed. */
function toPayload(row: PayloadRow | undefined): StoredPayload | undefined {
  if (!row) return undefined;
  return row.consumed === null ? row.payload : { ...row.payload, consumed: row.consumed };
}

/** The oidc_models table (migration 0002): the only SQL behind the oidc-provider adapter. */
export class OidcModelsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /**
   * Inserts or replaces (model, id). Consumption is one-way: a replaced payload keeps the row's
   * consumed_at, so re-saving a redeemed code or rotated refresh token cannot revive it.
   */
  async upsert(model: string, id: string, payload: StoredPayload, expiresIn: number | undefined): Promise<void> {
    if (!storable(id)) throw new TypeError(`cannot store ${model} with a NUL character in its id`);
    const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn : null;
    await this.#em.execute(
      `INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, account_id, expires_at)
       VALUES (?, ?, ?::json, ?, ?, ?, ?, now() + ? * interval '1 second')
       ON CONFLICT (model, id) DO UPDATE
         SET payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
             uid = excluded.uid, account_id = excluded.account_id, expires_at = excluded.expires_at`,
      [model, id, JSON.stringify(payload), indexed(payload.grantId), indexed(payload.userCode), indexed(payload.uid), indexed(payload.accountId), seconds],
    );
  }

  async find(model: string, id: string): Promise<StoredPayload | undefined> {
    if (!storable(id)) return undefined;
    const rows = await this.#em.execute<PayloadRow[]>(
      `SELECT ${PAYLOAD} FROM oidc_models WHERE model = ? AND id = ? AND ${LIVE}`,
      [model, id],
    );
    return toPayload(rows[0]);
  }

  /** By a secondary key: a Session by its uid, a DeviceCode by its user code. */
  async findBy(model: string, column: 'uid' | 'user_code', value: string): Promise<StoredPayload | undefined> {
    if (!storable(value)) return undefined;
    const rows = await this.#em.execute<PayloadRow[]>(
      `SELECT ${PAYLOAD} FROM oidc_models WHERE model = ? AND ${column} = ? AND ${LIVE} LIMIT 1`,
      [model, value],
    );
    return toPayload(rows[0]);
  }

  /**
   * Marks (model, id) consumed unless it already is. True only for the one caller that consumed
   * it: of two nodes redeeming the same code at once, exactly one wins.
   */
  async consume(model: string, id: string): Promise<boolean> {
    if (!storable(id)) return false;
    const rows = await this.#em.execute<{ id: string }[]>(
      `UPDATE oidc_models SET consumed_at = now() WHERE model = ? AND id = ? AND consumed_at IS NULL RETURNING id`,
      [model, id],
    );
    return rows.length > 0;
  }

  async destroy(model: string, id: string): Promise<void> {
    if (!storable(id)) return;
    await this.#em.execute('DELETE FROM oidc_models WHERE model = ? AND id = ?', [model, id]);
  }

  /** Deletes every row of `grantId` among `models` (other models' payloads may name a grant too). */
  async deleteByGrantId(grantId: string, models: readonly string[]): Promise<void> {
    if (!storable(grantId) || models.length === 0) return;
    await this.#em.execute('DELETE FROM oidc_models WHERE grant_id = ? AND model IN (?)', [grantId, [...models]]);
  }

  /**
   * Ends every OIDC session of an account (sign-in cookies stop working at once; the person must
   * sign in again). Grants and tokens issued earlier are not touched here.
   */
  async destroySessionsOf(accountId: string): Promise<number> {
    if (!storable(accountId)) return 0;
    const rows = await this.#em.execute<{ deleted: number }[]>(
      `WITH gone AS (DELETE FROM oidc_models WHERE model = 'Session' AND account_id = ? RETURNING 1)
       SELECT count(*)::int AS deleted FROM gone`,
      [accountId],
    );
    return rows[0]?.deleted ?? 0;
  }

  /**
   * Deletes everything oidc-provider holds for an account (sessions, grants, codes, tokens,
   * interactions) and returns the sessions' payloads, so their clients can be told (back-channel
   * logout). Every model that belongs to a person carries its accountId.
   */
  async destroyAllOf(accountId: string): Promise<StoredPayload[]> {
    if (!storable(accountId)) return [];
    const rows = await this.#em.execute<{ model: string; payload: StoredPayload }[]>(
      'DELETE FROM oidc_models WHERE account_id = ? RETURNING model, payload', [accountId]);
    return rows.filter((r) => r.model === 'Session').map((r) => r.payload);
  }

  /**
   * Deletes up to `limit` expired rows and returns how many. SKIP LOCKED: sweepers on several
   * nodes split the work instead of queueing behind each other's row locks.
   */
  async deleteExpired(limit: number): Promise<number> {
    const rows = await this.#em.execute<{ deleted: number }[]>(
      `WITH gone AS (
         DELETE FROM oidc_models WHERE (model, id) IN (
           SELECT model, id FROM oidc_models WHERE expires_at <= now() LIMIT ? FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT count(*)::int AS deleted FROM gone`,
      [limit],
    );
    return rows[0]?.deleted ?? 0;
  }
}
