import type { Database } from '../db/database.ts';

/**
 * The SAML replay cache (migration 0011): each assertion ID is accepted once per connection,
 * on every node, and kept until the assertion itself expires.
 */
export class SamlReplayCache {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Records `assertionId` until `expiresAt`; false when it was seen and has not expired (a replay). */
  remember(connectionId: string, assertionId: string, expiresAt: Date): Promise<boolean> {
    return this.#db.withoutOrg(async (em) => {
      const rows = await em.execute(
        `INSERT INTO saml_assertions_seen (connection_id, assertion_id, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (connection_id, assertion_id) DO UPDATE SET expires_at = excluded.expires_at
           WHERE saml_assertions_seen.expires_at <= now()
         RETURNING assertion_id`,
        [connectionId, assertionId, expiresAt],
      );
      return rows.length === 1;
    });
  }
}
