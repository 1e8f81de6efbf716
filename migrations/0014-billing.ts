import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Billing per org (issue 7; DESIGN.md, modules/billing).
// - org_billing: the org's Stripe customer and subscription as Gatehouse last understood them.
//   No row: the org has the default plan (billing off: GATEHOUSE_DEFAULT_PLAN; on: free). The
//   webhook finds the org by its customer id, so the platform role may read the table.
//   subscription_synced_at is the Stripe time of the subscription state stored, so an older event
//   arriving late never overwrites a newer state.
// - A downgrade never deletes: connections and directories the plan no longer allows get
//   plan_disabled_at and come back when a plan allows them again.
const script = `
  CREATE TABLE org_billing (
    org_id uuid PRIMARY KEY REFERENCES organizations ON DELETE CASCADE,
    plan text NOT NULL,
    status text NOT NULL CHECK (status IN ('none', 'active', 'trialing', 'past_due', 'canceled', 'incomplete', 'incomplete_expired', 'unpaid', 'paused')),
    stripe_customer_id text UNIQUE,
    stripe_subscription_id text UNIQUE,
    current_period_end timestamptz,
    grace_until timestamptz,
    subscription_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  GRANT SELECT, INSERT, UPDATE, DELETE ON org_billing TO gatehouse_app;

  ALTER TABLE connections ADD COLUMN plan_disabled_at timestamptz;
  ALTER TABLE directories ADD COLUMN plan_disabled_at timestamptz
`;

export class Billing extends Migration {
  override name = '0014-billing';

  override up(): void {
    for (const statement of [...statements(script), ...orgTableSecurity('org_billing', { platformRead: true })]) this.addSql(statement);
  }
}
