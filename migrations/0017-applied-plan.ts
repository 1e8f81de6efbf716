import { Migration } from '@mikro-orm/migrations';

// The plan whose effects were last applied and audited for the org (issue 7; billing/plan-effects.job.ts).
// A grace period ends with no webhook: the plan the org may use drops to free on its own. The
// background pass compares this with the live plan, so it audits that change exactly once and
// applies its effects; subscription sync keeps it current when a webhook changes the plan. NULL:
// not yet known (rows from before this column); the first pass records the live plan unaudited.
export class AppliedPlan extends Migration {
  override name = '0017-applied-plan';

  override up(): void {
    this.addSql('ALTER TABLE org_billing ADD COLUMN applied_plan text');
  }
}
