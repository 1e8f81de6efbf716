import { PaymentRequiredError } from '../../errors.ts';
import { isBuiltinRole } from '../roles/permissions.ts';
import type { OrgScope } from '../scope.ts';
import { assertFeature, assertSeatsAvailable, entitlementsOf, type Entitlements } from './entitlements.ts';
import { PlanLocksRepository } from './plan-locks.repository.ts';
import type { Feature, PlanCatalog } from './plans.ts';

// Enforcement (issue 7, item 4): services ask the gate before they write, so a refusal leaves
// nothing behind. The org's entitlements are read in the request's own transaction (no cache):
// an org_billing change (upgrade, downgrade) counts from the next request.

/** What a service needs to check the org's plan; ApiServices has both. */
export interface PlanDeps {
  plans: PlanCatalog;
  /** Stripe billing on (STRIPE_SECRET_KEY); off, every org has the self-hosted plan. */
  billing: boolean;
}

export function orgEntitlements(scope: OrgScope, deps: PlanDeps): Promise<Entitlements> {
  return entitlementsOf(scope, deps.plans, deps.billing);
}

export class PlanGate {
  readonly #scope: OrgScope;
  readonly #deps: PlanDeps;
  #entitlements: Promise<Entitlements> | undefined;

  constructor(scope: OrgScope, deps: PlanDeps) {
    this.#scope = scope;
    this.#deps = deps;
  }

  /** Read once per gate (one service call), in the scope's transaction. */
  entitlements(): Promise<Entitlements> {
    this.#entitlements ??= orgEntitlements(this.#scope, this.#deps);
    return this.#entitlements;
  }

  /** 402 plan.feature_unavailable naming the cheapest plan that has the feature. */
  async requireFeature(feature: Feature): Promise<void> {
    assertFeature(await this.entitlements(), feature, this.#deps.plans);
  }

  /** 402 plan.seat_limit when `adding` more members or invitations would pass the plan's seats. */
  async requireSeats(adding = 1): Promise<void> {
    if (adding <= 0) return;
    const entitlements = await this.entitlements();
    if (entitlements.plan.seats === null) return;
    await new PlanLocksRepository(this.#scope.em).lock('seats', this.#scope.orgId);
    await assertSeatsAvailable(this.#scope, entitlements, adding);
  }

  /**
   * A role someone is about to be given: a built-in role must be one of the plan's (free has the
   * owner only; starter adds admin and member; team adds viewer); a custom role needs the
   * custom_roles feature, so a downgraded org keeps its custom roles but grants them no more.
   */
  async requireRole(role: string): Promise<void> {
    if (!isBuiltinRole(role)) return this.requireFeature('custom_roles');
    if (await this.allowsRole(role)) return;
    const { plan } = await this.entitlements();
    const upgrade = this.#deps.plans.all().find((p) => p.roles.has(role));
    throw new PaymentRequiredError('plan.feature_unavailable',
      `The ${plan.name} plan does not include the ${role} role${upgrade ? `; the ${upgrade.name} plan (${upgrade.key}) does` : ''}.`);
  }

  /** requireRole's test without the answer: whether the plan lets members be given `role` now. */
  async allowsRole(role: string): Promise<boolean> {
    const { plan } = await this.entitlements();
    return isBuiltinRole(role) ? plan.roles.has(role) : plan.features.has('custom_roles');
  }

  /** 402 plan.limit when the org already has as many active API keys as its plan allows. */
  async requireApiKeySlot(activeKeys: () => Promise<number>): Promise<void> {
    const { plan } = await this.entitlements();
    if (plan.apiKeyLimit === null) return;
    await new PlanLocksRepository(this.#scope.em).lock('api_keys', this.#scope.orgId);
    if ((await activeKeys()) < plan.apiKeyLimit) return;
    throw new PaymentRequiredError('plan.limit',
      `The ${plan.name} plan allows ${plan.apiKeyLimit} active API key${plan.apiKeyLimit === 1 ? '' : 's'}; revoke one or upgrade.`);
  }
}
