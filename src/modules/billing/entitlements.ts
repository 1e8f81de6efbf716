import type { OrgScope } from '../scope.ts';
import type { Feature, Plan, PlanCatalog } from './plans.ts';

// CONTRACT (helper B1 implements; keep these names and shapes). What an org may use now, from
// org_billing and the plan catalogue; enforced by the services (helper B3).

export interface Entitlements {
  readonly plan: Plan;
  /** org_billing.status, or 'none' without a subscription. */
  readonly status: string;
  /** Whether Stripe billing is on (STRIPE_SECRET_KEY). */
  readonly billing: boolean;
}

/**
 * The scoped org's entitlements: billing off → the self-hosted plan; on → the subscribed plan while
 * the subscription is active/trialing, or past_due within grace_until; otherwise free.
 */
export async function entitlementsOf(_scope: OrgScope, _plans: PlanCatalog, _billing: boolean): Promise<Entitlements> {
  throw new Error('not implemented');
}

/** Throws 402 plan.feature_unavailable naming the cheapest plan that has it. */
export function assertFeature(_entitlements: Entitlements, _feature: Feature, _plans: PlanCatalog): void {
  throw new Error('not implemented');
}

/** Throws 402 plan.seat_limit when members + pending invitations + `adding` would pass the plan's seats. */
export async function assertSeatsAvailable(_scope: OrgScope, _entitlements: Entitlements, _adding?: number): Promise<void> {
  throw new Error('not implemented');
}
