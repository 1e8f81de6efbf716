import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Stripe webhook events as received (issue 7 item 3; src/modules/billing/stripe-webhook.ts).
// - Keyed by Stripe's event id: the insert (ON CONFLICT DO NOTHING) is in the same transaction as
//   the event's effect on org_billing, so a redelivered event, even one arriving concurrently,
//   waits on the key and then does nothing: each event takes effect exactly once.
// - An event carries one customer's billing data (emails, amounts, addresses), so it belongs to
//   the org whose customer it names: org_id, with the usual RLS policy. The app role may write and
//   read its own org's events only, never another org's.
// - An event that names no known org (an unknown customer, a refused checkout, a type we do not
//   act on) is still stored, as 'ignored', by the platform role with org_id NULL. The
//   platform role may only insert such rows: it cannot read any event, nor file one under an org
//   (that would bypass the org's own transaction and its audit). Nobody may update or delete
//   events; they leave with their org (ON DELETE CASCADE).
const script = `
  CREATE TABLE stripe_events (
    id text PRIMARY KEY,
    type text NOT NULL,
    org_id uuid REFERENCES organizations ON DELETE CASCADE,
    outcome text NOT NULL CHECK (outcome IN ('processed', 'ignored')),
    stripe_created_at timestamptz NOT NULL,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CHECK (org_id IS NOT NULL OR outcome = 'ignored')
  );
  CREATE INDEX stripe_events_org_received ON stripe_events (org_id, received_at) WHERE org_id IS NOT NULL;
  GRANT SELECT, INSERT ON stripe_events TO gatehouse_app;
  GRANT INSERT ON stripe_events TO gatehouse_platform
`;

export class StripeEvents extends Migration {
  override name = '0015-stripe-events';

  override up(): void {
    for (const statement of [
      ...statements(script),
      ...orgTableSecurity('stripe_events', { platformRead: false }),
      `CREATE POLICY platform_unmatched ON stripe_events FOR INSERT TO gatehouse_platform WITH CHECK (org_id IS NULL)`,
    ]) this.addSql(statement);
  }
}
