import type { EntityManager } from '@mikro-orm/sql';

type Table = 'connections' | 'directories';

/** What the background pass needs of org_billing (plan-effects.job.ts). */
export interface AppliedPlanRow {
  status: string;
  applied_plan: string | null;
  stripe_subscription_id: string | null;
}

/**
 * plan_disabled_at of the scoped org's connections and directories, and org_billing.applied_plan
 * (the plan whose effects were last applied and audited); RLS keeps it to that org.
 */
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

  /** The org's billing row, locked until the transaction ends (webhook sync takes the same lock); null: none. */
  async lockAppliedPlan(orgId: string): Promise<AppliedPlanRow | null> {
    const rows = await this.#em.execute<AppliedPlanRow[]>(
      'SELECT status, applied_plan, stripe_subscription_id FROM org_billing WHERE org_id = ? FOR UPDATE', [orgId]);
    return rows[0] ?? null;
  }

  async setAppliedPlan(orgId: string, plan: string): Promise<void> {
    await this.#em.execute('UPDATE org_billing SET applied_plan = ? WHERE org_id = ?', [plan, orgId]);
  }
}
