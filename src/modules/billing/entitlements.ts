import { PaymentRequiredError } from '../../errors.ts';
import type { OrgScope } from '../scope.ts';
import { BillingRepository, type OrgBillingRow } from './billing.repository.ts';
import type { Feature, Plan, PlanCatalog } from './plans.ts';

// What an org may use now, from org_billing and the plan catalogue; enforced by the services.

export interface Entitlements {
  readonly plan: Plan;
  /** org_billing.status, or 'none' without a subscription. */
  readonly status: string;
  /** Whether Stripe billing is on (STRIPE_SECRET_KEY). */
  readonly billing: boolean;
}

const paidStatuses = new Set(['active', 'trialing']);

/**
 * The subscribed plan while it is paid for (or past due within grace); otherwise free. Exported
 * for the platform overview, which reads many orgs' rows at once outside any org scope.
 */
export function billedPlan(row: Pick<OrgBillingRow, 'plan' | 'status' | 'grace_until'> | null, plans: PlanCatalog, now: Date): Plan {
  if (!row) return plans.free;
  const plan = plans.get(row.plan);
  // A plan removed from the file since the subscription was stored: the org falls back to free
  // rather than keeping features nobody can name.
  if (!plan) return plans.free;
  if (paidStatuses.has(row.status)) return plan;
  if (row.status === 'past_due' && row.grace_until && row.grace_until > now) return plan;
  return plans.free;
}

/**
 * The scoped org's entitlements: billing off → the self-hosted plan; on → the subscribed plan while
 * the subscription is active/trialing, or past_due within grace_until; otherwise free.
 */
export async function entitlementsOf(scope: OrgScope, plans: PlanCatalog, billing: boolean): Promise<Entitlements> {
  const row = await new BillingRepository(scope.em).find(scope.orgId);
  const status = row?.status ?? 'none';
  if (!billing) return { plan: plans.selfHosted, status, billing };
  return { plan: billedPlan(row, plans, new Date()), status, billing };
}

/** Throws 402 plan.feature_unavailable naming the cheapest plan that has it. */
export function assertFeature(entitlements: Entitlements, feature: Feature, plans: PlanCatalog): void {
  if (entitlements.plan.features.has(feature)) return;
  const upgrade = plans.cheapestWith(feature);
  const hint = upgrade ? ` The ${upgrade.name} plan (${upgrade.key}) has it.` : ' No plan has it.';
  throw new PaymentRequiredError('plan.feature_unavailable', `The ${entitlements.plan.name} plan does not include ${feature}.${hint}`);
}

/** Throws 402 plan.seat_limit when members + pending invitations + `adding` would pass the plan's seats. */
export async function assertSeatsAvailable(scope: OrgScope, entitlements: Entitlements, adding = 1): Promise<void> {
  const allowed = entitlements.plan.seats;
  if (allowed === null) return;
  const used = await new BillingRepository(scope.em).seatsUsed(scope.orgId);
  if (used + adding <= allowed) return;
  throw new PaymentRequiredError('plan.seat_limit',
    `The ${entitlements.plan.name} plan allows ${allowed} seat${allowed === 1 ? '' : 's'} (members plus pending invitations); ${used} are taken.`);
}
