import type Stripe from 'stripe';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import type { OrgBillingRow } from './billing.repository.ts';
import { entitlementsOf } from './entitlements.ts';
import { PlanEffectsRepository } from './plan-effects.repository.ts';
import type { Plan, PlanCatalog } from './plans.ts';
import { StripeEventsRepository } from './stripe-events.repository.ts';

// The org's plan and status from the subscription's own state (issue 7: "using the subscription's
// own state rather than the event order"). Webhooks hand in the subscription as Stripe answers it
// now (subscriptions.retrieve), stamped with when it was asked for; org_billing keeps that stamp
// (subscription_synced_at) and a state asked for earlier never overwrites one asked for later,
// whatever order the deliveries commit in. Any change after a fetch is its own event, which
// fetches again, so the stored state converges on Stripe's.

/** Called after a sync changed the plan the org may use (B3's plan effects are wired in app.ts). */
export type PlanChangeHook = (scope: OrgScope, plan: Plan) => Promise<void>;

export interface SyncDeps {
  plans: PlanCatalog;
  graceDays: number;
  onPlanChange: PlanChangeHook;
}

/** 'unknown_price': applied, but on the free plan (the subscription's price is in no plan). */
export type SyncResult = 'synced' | 'stale' | 'other_subscription' | 'other_customer' | 'unknown_price';

// Stripe statuses after which a subscription never comes back (Stripe: Subscription.status).
const endedStatuses = new Set(['canceled', 'incomplete_expired']);

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}

/** The plan a subscription pays for: the first item whose price is a plan's stripePriceId. */
function planOf(subscription: Stripe.Subscription, plans: PlanCatalog): Plan | undefined {
  for (const item of subscription.items.data) {
    const plan = plans.all().find((p) => p.stripePriceId !== null && p.stripePriceId === item.price.id);
    if (plan) return plan;
  }
  return undefined;
}

/** Why this subscription state must not be applied to the locked row, or null to apply it. */
function refusal(row: OrgBillingRow, subscription: Stripe.Subscription, fetchedAt: Date): SyncResult | null {
  if (row.stripe_customer_id !== idOf(subscription.customer)) return 'other_customer';
  if (row.subscription_synced_at && row.subscription_synced_at > fetchedAt) return 'stale';
  // An old subscription ending (or a late event about it) must not end the org's current one.
  if (row.stripe_subscription_id && row.stripe_subscription_id !== subscription.id && endedStatuses.has(subscription.status)) {
    return 'other_subscription';
  }
  return null;
}

/**
 * Applies `subscription` (as Stripe answered at `fetchedAt`) to the org's org_billing row, which the
 * caller has locked in this transaction; audits billing.plan_changed when the plan the org may use
 * or the status changes, and then runs the plan-change hook.
 */
export async function syncSubscription(
  scope: OrgScope, deps: SyncDeps, row: OrgBillingRow, subscription: Stripe.Subscription, fetchedAt: Date,
): Promise<SyncResult> {
  const refused = refusal(row, subscription, fetchedAt);
  if (refused) return refused;
  const ended = endedStatuses.has(subscription.status);
  // A price in no plan (a plan removed from the file, a price made in the Stripe dashboard) fails
  // closed: the status is stored with the free plan, never leaving the org on its previous plan.
  const known = ended ? deps.plans.free : planOf(subscription, deps.plans);
  const plan = known ?? deps.plans.free;
  const before = await entitlementsOf(scope, deps.plans, true);
  // A grace period starts with the first past_due state and is kept through later ones (a retry
  // failing again does not extend it); any other state ends it.
  const graceUntil = subscription.status === 'past_due'
    ? (row.grace_until ?? new Date(Date.now() + deps.graceDays * 86_400_000))
    : null;
  const periodEnd = subscription.items.data[0]?.current_period_end;
  await new StripeEventsRepository(scope.em).writeSubscription(scope.orgId, {
    plan: plan.key,
    status: subscription.status,
    subscriptionId: subscription.id,
    currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
    graceUntil,
    syncedAt: fetchedAt,
  });
  const after = await entitlementsOf(scope, deps.plans, true);
  if (before.plan.key !== after.plan.key || before.status !== after.status) {
    await recordAudit(scope, {
      type: 'billing.plan_changed',
      target: { type: 'subscription', id: subscription.id },
      before: { plan: before.plan.key, status: before.status },
      after: { from: before.plan.key, to: after.plan.key, status: after.status, subscribedPlan: plan.key, graceUntil: graceUntil?.toISOString() ?? null },
    });
    // Audited here: the background pass (plan-effects.job.ts) must not audit it again.
    await new PlanEffectsRepository(scope.em).setAppliedPlan(scope.orgId, after.plan.key);
  }
  if (before.plan.key !== after.plan.key) await deps.onPlanChange(scope, after.plan);
  return known ? 'synced' : 'unknown_price';
}
