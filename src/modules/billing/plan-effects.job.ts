import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';
import { PeriodicJob } from '../../db/periodic-job.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { OrgScope } from '../scope.ts';
import { entitlementsOf, type Entitlements } from './entitlements.ts';
import { applyPlanEffects } from './plan-effects.ts';
import { PlanEffectsRepository, type AppliedPlanRow } from './plan-effects.repository.ts';
import type { PlanCatalog } from './plans.ts';
import { orgIdsPage } from './retention.repository.ts';

const orgPageSize = 500;
const systemMeta = { ip: null, userAgent: null, requestId: null };

export interface PlanEffectsJobOptions {
  db: Database;
  logger: Logger;
  plans: PlanCatalog;
  /** Whether Stripe billing is on (ApiServices.billing): which plan an org has. */
  billing: boolean;
  /** Wait between runs. */
  intervalMs?: number;
}

export interface PlanEffectsResult {
  /** Orgs whose plan change was audited by this run (a grace period that ended, a plan gone from the file). */
  changed: number;
}

/**
 * Plan changes no webhook announces: a past_due subscription's grace period ends (the org drops to
 * free on its own), or the plans file changes under a subscription. Entitlements are live
 * everywhere already; this pass brings what is stored in line with them: each org's connections
 * and directories (applyPlanEffects, audited per row it changes), and, for an org with a billing
 * row, one `billing.plan_changed` event when the plan the org may use is not the one last applied
 * (org_billing.applied_plan, migration 0017). Idempotent: a second run finds nothing to do. Every
 * node runs it; the billing row's lock makes two nodes (or a webhook) take turns on an org.
 */
export class PlanEffectsJob {
  readonly #opts: PlanEffectsJobOptions;
  readonly #job: PeriodicJob<PlanEffectsResult>;

  constructor(opts: PlanEffectsJobOptions) {
    this.#opts = opts;
    this.#job = new PeriodicJob({
      name: 'plan effects', intervalMs: opts.intervalMs ?? 600_000, logger: opts.logger,
      run: () => this.#run(), summary: (r) => (r.changed > 0 ? { ...r } : null),
    });
  }

  /**
   * One run over every org; `only`: over these orgs alone (tests share one database with apps
   * whose billing is off, whose orgs a billing-on pass would take for free ones).
   */
  runOnce(only?: readonly string[]): Promise<PlanEffectsResult> {
    return only ? this.#orgs(only, { changed: 0 }) : this.#job.runOnce();
  }

  start(): void {
    this.#job.start();
  }

  stop(): Promise<void> {
    return this.#job.stop();
  }

  async #run(): Promise<PlanEffectsResult> {
    const result: PlanEffectsResult = { changed: 0 };
    let after: string | null = null;
    for (;;) {
      const ids = await orgIdsPage(this.#opts.db, after, orgPageSize);
      await this.#orgs(ids, result);
      if (ids.length < orgPageSize || this.#job.stopping) return result;
      after = ids.at(-1)!;
    }
  }

  async #orgs(ids: readonly string[], result: PlanEffectsResult): Promise<PlanEffectsResult> {
    for (const orgId of ids) {
      if (this.#job.stopping) break;
      if (await this.#opts.db.inOrg(orgId, (em) => this.#org(new OrgScope(orgId, em, null, systemMeta)))) result.changed++;
    }
    return result;
  }

  /** One org in its own transaction; true when its plan change was audited. */
  async #org(scope: OrgScope): Promise<boolean> {
    const repo = new PlanEffectsRepository(scope.em);
    // Locked before the entitlements are read, so they are those of the row as it now stands.
    const row = await repo.lockAppliedPlan(scope.orgId);
    const live = await entitlementsOf(scope, this.#opts.plans, this.#opts.billing);
    const changed = row !== null && row.applied_plan !== live.plan.key;
    if (changed) await this.#recordChange(scope, repo, row, live);
    await applyPlanEffects(scope, live.plan);
    return changed && row.applied_plan !== null;
  }

  /** A first sight (applied_plan NULL) is recorded unaudited: nothing says what was applied before. */
  async #recordChange(scope: OrgScope, repo: PlanEffectsRepository, row: AppliedPlanRow, live: Entitlements): Promise<void> {
    await repo.setAppliedPlan(scope.orgId, live.plan.key);
    if (row.applied_plan === null) return;
    await recordAudit(scope, {
      type: 'billing.plan_changed',
      target: { type: 'subscription', id: row.stripe_subscription_id ?? scope.orgId },
      before: { plan: row.applied_plan, status: row.status },
      after: { from: row.applied_plan, to: live.plan.key, status: live.status, reason: row.status === 'past_due' ? 'grace_ended' : 'plan_recomputed' },
    });
  }
}
