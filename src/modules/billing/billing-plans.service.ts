import type { OrgScope } from '../scope.ts';
import type { Plan, PlanCatalog } from './plans.ts';

export function planView(plan: Plan, billing: boolean) {
  return {
    key: plan.key,
    name: plan.name,
    seats: plan.seats,
    features: [...plan.features],
    roles: [...plan.roles],
    apiKeyLimit: plan.apiKeyLimit,
    auditRetentionDays: plan.auditRetentionDays,
    // Only a plan with a Stripe price, on a Gatehouse with billing on, can be bought through Checkout.
    forSale: billing && plan.stripePriceId !== null,
  };
}
export type PlanView = ReturnType<typeof planView>;

/** The plan catalogue as an owner chooses from it (the console's upgrade choices). */
export class BillingPlansService {
  readonly #scope: OrgScope;
  readonly #plans: PlanCatalog;
  readonly #billing: boolean;

  constructor(scope: OrgScope, plans: PlanCatalog, billing: boolean) {
    this.#scope = scope;
    this.#plans = plans;
    this.#billing = billing;
  }

  /** Every plan in file order (cheapest first); price ids stay on the server. */
  list(): { data: PlanView[] } {
    this.#scope.authorize('billing:manage');
    return { data: this.#plans.all().map((p) => planView(p, this.#billing)) };
  }
}
