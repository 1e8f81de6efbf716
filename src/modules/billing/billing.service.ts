import { createHash } from 'node:crypto';
import { AppError, ConflictError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { OrgsRepository } from '../orgs/orgs.repository.ts';
import type { OrgScope } from '../scope.ts';
import { BillingRepository } from './billing.repository.ts';
import { entitlementsOf } from './entitlements.ts';
import type { Plan, PlanCatalog } from './plans.ts';
import { callStripe, type StripeClient } from './stripe-client.ts';

export interface BillingDeps {
  plans: PlanCatalog;
  /** The SDK client; undefined while billing is off (no STRIPE_SECRET_KEY). */
  stripe: StripeClient | undefined;
  publicUrl: string;
}

export interface BillingSummary {
  plan: string;
  planName: string;
  status: string;
  seats: { used: number; allowed: number | null };
  periodEnd: Date | null;
  billing: boolean;
}

// 'incomplete' is left out: its first payment failed and it expires by itself; checkout may start over.
const liveStatuses = new Set(['active', 'trialing', 'past_due', 'unpaid', 'paused']);

function billingOff(): ConflictError {
  return new ConflictError('billing.off',
    'Billing is off on this Gatehouse (no STRIPE_SECRET_KEY): every organization has the self-hosted plan.');
}

/** The org's plan, its Stripe checkout and billing portal. Only the owner (billing:manage) sees or changes it. */
export class BillingService {
  readonly #scope: OrgScope;
  readonly #deps: BillingDeps;
  readonly #billing: BillingRepository;

  constructor(scope: OrgScope, deps: BillingDeps) {
    this.#scope = scope;
    this.#deps = deps;
    this.#billing = new BillingRepository(scope.em);
  }

  async summary(): Promise<BillingSummary> {
    this.#scope.authorize('billing:manage');
    const { plan, status, billing } = await entitlementsOf(this.#scope, this.#deps.plans, this.#deps.stripe !== undefined);
    const row = await this.#billing.find(this.#scope.orgId);
    return {
      plan: plan.key,
      planName: plan.name,
      status,
      seats: { used: await this.#billing.seatsUsed(this.#scope.orgId), allowed: plan.seats },
      periodEnd: billing ? row?.current_period_end ?? null : null,
      billing,
    };
  }

  /** A Stripe Checkout Session (subscription mode) for the plan's price; the webhook applies the result. */
  async checkout(planKey: string): Promise<{ url: string }> {
    this.#scope.authorize('billing:manage');
    const stripe = this.#stripe();
    const plan = this.#sellable(planKey);
    const row = await this.#billing.lockOrCreate(this.#scope.orgId, this.#deps.plans.free.key);
    // A second Checkout would start a second subscription, billed beside the first: plan changes
    // of a live subscription go through the Billing Portal.
    if (row.stripe_subscription_id && liveStatuses.has(row.status)) {
      throw new ConflictError('billing.already_subscribed', 'This organization already has a subscription: change its plan in the billing portal.');
    }
    const customerId = row.stripe_customer_id ?? await this.#createCustomer(stripe);
    const page = this.#billingPage();
    const session = await callStripe('start a checkout', () => stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customerId,
      line_items: [{ price: plan.stripePriceId!, quantity: 1 }],
      client_reference_id: this.#scope.orgId,
      metadata: { org_id: this.#scope.orgId, plan: plan.key },
      subscription_data: { metadata: { org_id: this.#scope.orgId, plan: plan.key } },
      success_url: `${page}?checkout=success`,
      cancel_url: `${page}?checkout=cancelled`,
    }));
    if (!session.url) throw new AppError('billing.stripe_failed', 502, 'Stripe answered the checkout without a URL.');
    await recordAudit(this.#scope, {
      type: 'billing.checkout_started', target: { type: 'plan', id: plan.key },
      after: { plan: plan.key, customer: customerId, checkoutSession: session.id },
    });
    return { url: session.url };
  }

  /** A Billing Portal session for the org's Stripe customer (409 before the first checkout made one). */
  async portal(): Promise<{ url: string }> {
    this.#scope.authorize('billing:manage');
    const stripe = this.#stripe();
    const row = await this.#billing.find(this.#scope.orgId);
    if (!row?.stripe_customer_id) {
      throw new ConflictError('billing.no_customer', 'This organization has no billing account yet: start a checkout first.');
    }
    const customer = row.stripe_customer_id;
    const session = await callStripe('open the billing portal', () => stripe.billingPortal.sessions.create({
      customer, return_url: this.#billingPage(),
    }));
    await recordAudit(this.#scope, { type: 'billing.portal_opened', target: { type: 'customer', id: customer }, after: { customer } });
    return { url: session.url };
  }

  /** The web console's billing page of the org, where Stripe sends the owner back. */
  #billingPage(): string {
    return `${this.#deps.publicUrl}/admin/orgs/${this.#scope.orgId}/billing`;
  }

  #stripe(): StripeClient {
    if (!this.#deps.stripe) throw billingOff();
    return this.#deps.stripe;
  }

  #sellable(planKey: string): Plan {
    const plan = this.#deps.plans.get(planKey);
    if (!plan) {
      const known = this.#deps.plans.all().filter((p) => p.stripePriceId).map((p) => p.key).join(', ');
      throw new AppError('billing.plan_unknown', 400, `There is no plan "${planKey}". Plans on sale: ${known}.`);
    }
    if (!plan.stripePriceId) throw new AppError('billing.plan_not_for_sale', 400, `The ${plan.name} plan is not sold through checkout.`);
    return plan;
  }

  /**
   * The org's Stripe customer, made at its first checkout. The caller holds the org_billing row
   * lock until this request's transaction ends, so concurrent first checkouts wait for it and
   * find the stored id instead of each creating a customer.
   */
  async #createCustomer(stripe: StripeClient): Promise<string> {
    const org = await new OrgsRepository(this.#scope.em).find(this.#scope.orgId);
    const params = { name: org?.name, metadata: { org_id: this.#scope.orgId } };
    // Should the checkout below fail, this transaction rolls back and the id is forgotten; the
    // retry within Stripe's 24 h idempotency window then gets the same customer, not a second one.
    // The key covers the parameters: Stripe refuses a key reused with different ones (a rename).
    const digest = createHash('sha256').update(JSON.stringify(params)).digest('base64url').slice(0, 16);
    const customer = await callStripe('create the billing customer', () => stripe.customers.create(
      params, { idempotencyKey: `gatehouse-customer-${this.#scope.orgId}-${digest}` }));
    await this.#billing.setCustomer(this.#scope.orgId, customer.id);
    return customer.id;
  }
}
