import type { EntityManager } from '@mikro-orm/sql';

/** oidc_grant_orgs in an org's transaction (row-level security admits that org's rows only). */
export class GrantOrgsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** `ssoConnectionId`: the SSO connection the grant's sign-in went through, if any (SSO enforcement). */
  async set(grantId: string, orgId: string, userId: string, ssoConnectionId: string | null = null): Promise<void> {
    await this.#em.execute(
      `INSERT INTO oidc_grant_orgs (grant_id, org_id, user_id, sso_connection_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (grant_id) DO UPDATE SET org_id = EXCLUDED.org_id, user_id = EXCLUDED.user_id,
         sso_connection_id = EXCLUDED.sso_connection_id, updated_at = now()`,
      [grantId, orgId, userId, ssoConnectionId],
    );
  }

  async grantsOf(userId: string): Promise<string[]> {
    const rows = await this.#em.execute<{ grant_id: string }[]>('SELECT grant_id FROM oidc_grant_orgs WHERE user_id = ?', [userId]);
    return rows.map((r) => r.grant_id);
  }

  async delete(grantId: string): Promise<void> {
    await this.#em.execute('DELETE FROM oidc_grant_orgs WHERE grant_id = ?', [grantId]);
  }

  async deleteFor(userId: string): Promise<void> {
    await this.#em.execute('DELETE FROM oidc_grant_orgs WHERE user_id = ?', [userId]);
  }
}
