import type Stripe from 'stripe';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { OrgScope } from '../scope.ts';
import { BillingRepository, type OrgBillingRow } from './billing.repository.ts';
import { callStripe } from './stripe-client.ts';
import { StripeEventsRepository, StripeWebhookPlatformRepository, type ReceivedEvent } from './stripe-events.repository.ts';
import { syncSubscription, type SyncDeps } from './subscription-sync.ts';

// What a verified Stripe event does (issue 7 item 3). The org is found from Stripe's side only:
// the customer stored in org_billing; a checkout's org (metadata.org_id) counts only when that org's
// stored customer is the session's. Each event
// is claimed by id in the same org transaction as its effect and its audit, so it acts once.

export type WebhookOutcome = 'processed' | 'duplicate' | 'ignored';

export interface StripeWebhookDeps extends SyncDeps {
  db: Database;
  stripe: Stripe;
  logger: Logger;
}

/** The effect of one event inside its org's transaction, given the org's locked billing row. */
type Effect = (scope: OrgScope, row: OrgBillingRow) => Promise<void>;

const systemMeta = { ip: null, userAgent: null, requestId: null };

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}

export class StripeWebhook {
  readonly #deps: StripeWebhookDeps;
  readonly #platform: StripeWebhookPlatformRepository;

  constructor(deps: StripeWebhookDeps) {
    this.#deps = deps;
    this.#platform = new StripeWebhookPlatformRepository(deps.db);
  }

  async handle(event: Stripe.Event): Promise<WebhookOutcome> {
    const received: ReceivedEvent = { id: event.id, type: event.type, created: event.created, payload: event };
    switch (event.type) {
      case 'checkout.session.completed':
        return this.#checkoutCompleted(received, event.data.object);
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
        return this.#subscriptionChanged(received, event.data.object);
      case 'customer.subscription.deleted':
        // Deletion is final: the payload's canceled state cannot be overtaken, so no fetch.
        return this.#forCustomer(received, idOf(event.data.object.customer), this.#sync(event.data.object, new Date()));
      case 'invoice.paid':
      case 'invoice.payment_failed':
        return this.#invoice(received, event.data.object, event.type === 'invoice.paid');
      default:
        return this.#ignore(received, 'not an event Gatehouse acts on');
    }
  }

  async #checkoutCompleted(event: ReceivedEvent, session: Stripe.Checkout.Session): Promise<WebhookOutcome> {
    // metadata.org_id is what Gatehouse's own checkout sets; client_reference_id is only a
    // fallback, since anyone can set it on a Payment Link.
    const orgId = session.metadata?.org_id ?? session.client_reference_id ?? null;
    const customerId = idOf(session.customer);
    const subscriptionId = idOf(session.subscription);
    if (session.mode !== 'subscription' || !orgId || !customerId || !subscriptionId) return this.#ignore(event, 'not a subscription checkout of an org');
    const org = await this.#platform.findOrg(orgId);
    if (!org) return this.#ignore(event, 'the checkout names no existing org');
    // Never trust an org id on its own: Gatehouse creates and stores the org's customer before it
    // opens a checkout, so a genuine session's customer is the one stored. Any other customer
    // (or an org with none yet) is someone else's checkout naming this org: never linked.
    if (org.customerId !== customerId) return this.#ignore(event, 'the checkout\'s customer is not the org\'s', 'warn');
    const [subscription, fetchedAt] = await this.#fetch(subscriptionId);
    return this.#inOrg(orgId, event, this.#sync(subscription, fetchedAt));
  }

  async #subscriptionChanged(event: ReceivedEvent, payload: Stripe.Subscription): Promise<WebhookOutcome> {
    const orgId = await this.#orgOf(payload.customer);
    if (!orgId) return this.#ignore(event, 'the customer is linked to no org');
    const [subscription, fetchedAt] = await this.#fetch(payload.id);
    return this.#inOrg(orgId, event, this.#sync(subscription, fetchedAt));
  }

  async #invoice(event: ReceivedEvent, invoice: Stripe.Invoice, paid: boolean): Promise<WebhookOutcome> {
    const orgId = await this.#orgOf(invoice.customer);
    if (!orgId) return this.#ignore(event, 'the customer is linked to no org');
    const subscriptionId = idOf(invoice.parent?.subscription_details?.subscription);
    // The subscription's status (past_due after a failed payment, active once paid) decides the
    // grace period, not this invoice: a late failure must not undo a later payment.
    const fetched = subscriptionId ? await this.#fetch(subscriptionId) : null;
    return this.#inOrg(orgId, event, async (scope, row) => {
      await recordAudit(scope, {
        type: paid ? 'billing.payment_succeeded' : 'billing.payment_failed',
        target: { type: 'invoice', id: invoice.id ?? event.id },
        after: { amount: paid ? invoice.amount_paid : invoice.amount_due, currency: invoice.currency, subscription: subscriptionId },
      });
      if (fetched) await this.#sync(...fetched)(scope, row);
    });
  }

  #sync(subscription: Stripe.Subscription, fetchedAt: Date): Effect {
    return async (scope, row) => {
      const result = await syncSubscription(scope, this.#deps, row, subscription, fetchedAt);
      if (result === 'unknown_price') {
        const prices = subscription.items.data.map((item) => item.price.id);
        this.#deps.logger.error({ orgId: scope.orgId, subscription: subscription.id, prices },
          `stripe subscription price ${prices.join(', ')} is in no plan (GATEHOUSE_PLANS): the org is on the free plan`);
      } else if (result !== 'synced') {
        this.#deps.logger.info({ orgId: scope.orgId, subscription: subscription.id, result }, 'stripe subscription state not applied');
      }
    };
  }

  /** The subscription as Stripe has it now, and when we asked (taken before asking). */
  async #fetch(subscriptionId: string): Promise<[Stripe.Subscription, Date]> {
    const fetchedAt = new Date();
    const subscription = await callStripe('read the subscription', () => this.#deps.stripe.subscriptions.retrieve(subscriptionId));
    return [subscription, fetchedAt];
  }

  #orgOf(customer: string | { id: string } | null): Promise<string | null> {
    const customerId = idOf(customer);
    return customerId ? this.#platform.orgOfCustomer(customerId) : Promise.resolve(null);
  }

  async #forCustomer(event: ReceivedEvent, customerId: string | null, effect: Effect): Promise<WebhookOutcome> {
    const orgId = await this.#orgOf(customerId);
    if (!orgId) return this.#ignore(event, 'the customer is linked to no org');
    return this.#inOrg(orgId, event, effect);
  }

  /** One org transaction: claim the event (or stop: a delivery of it was taken), lock the billing row, act. */
  #inOrg(orgId: string, event: ReceivedEvent, effect: Effect): Promise<WebhookOutcome> {
    return this.#deps.db.inOrg(orgId, async (em) => {
      if (!(await new StripeEventsRepository(em).claim(orgId, event))) return 'duplicate';
      const row = await new BillingRepository(em).lockOrCreate(orgId, this.#deps.plans.free.key);
      await effect(new OrgScope(orgId, em, null, systemMeta), row);
      return 'processed';
    });
  }

  /** `warn` for an event that looks like someone else's checkout aimed at an org. */
  async #ignore(event: ReceivedEvent, reason: string, level: 'info' | 'warn' = 'info'): Promise<WebhookOutcome> {
    const stored = await this.#platform.storeIgnored(event);
    if (stored) this.#deps.logger[level]({ eventId: event.id, type: event.type, reason }, 'stripe event stored and ignored');
    return stored ? 'ignored' : 'duplicate';
  }
}
