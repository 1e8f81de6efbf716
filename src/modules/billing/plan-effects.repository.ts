import type { EntityManager } from '@mikro-orm/sql';

type Table = 'connections' | 'directories';

/** plan_disabled_at of the scoped org's connections and directories (RLS keeps it to that org). */
export class PlanEffectsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** Marks every not-yet-marked row of the org; returns the ids it marked. */
  async disable(table: Table, orgId: string): Promise<string[]> {
    const rows = await this.#em.execute<{ id: string }[]>(
      `UPDATE ${table} SET plan_disabled_at = now() WHERE org_id = ? AND plan_disabled_at IS NULL RETURNING id`, [orgId]);
    return rows.map((r) => r.id).sort();
  }

  /** Clears the mark on every marked row of the org; returns the ids it cleared. */
  async enable(table: Table, orgId: string): Promise<string[]> {
    const rows = await this.#em.execute<{ id: string }[]>(
      `UPDATE ${table} SET plan_disabled_at = NULL WHERE org_id = ? AND plan_disabled_at IS NOT NULL RETURNING id`, [orgId]);
    return rows.map((r) => r.id).sort();
  }
}
