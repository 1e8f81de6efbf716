import type { EntityManager } from '@mikro-orm/sql';
import type { Held } from './retention-holds.ts';

/** audit_retention_holds of the scoped org (RLS: only that org's row). */
export class RetentionHoldsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async find(orgId: string): Promise<Held | null> {
    const [row] = await this.#em.execute<Array<{ held: Held | string }>>('SELECT held FROM audit_retention_holds WHERE org_id = ?', [orgId]);
    if (!row) return null;
    return typeof row.held === 'string' ? (JSON.parse(row.held) as Held) : row.held;
  }

  async save(orgId: string, held: Held): Promise<void> {
    await this.#em.execute(
      `INSERT INTO audit_retention_holds (org_id, held) VALUES (?, ?::jsonb)
       ON CONFLICT (org_id) DO UPDATE SET held = excluded.held, updated_at = now()`,
      [orgId, JSON.stringify(held)],
    );
  }
}
