import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Stripe from 'stripe';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { oidcConnection } from '../helpers/sso.ts';
import { startStripe, type StripeStandIn } from '../helpers/stripe-stand-in.ts';
import { asDatabaseOwner } from '../helpers/superuser.ts';
import { BillingRepository, type OrgBillingRow } from '../../src/modules/billing/billing.repository.ts';

// POST /webhooks/stripe against a local Stripe stand-in. Signatures are made by the SDK's own
// test helper (generateTestHeaderString), never by our verification code.

const SECRET = 'whsec_test';
let stripe: StripeStandIn;
let t: TestApp;
let offline: TestApp;
const signer = new Stripe('sk_test_signer').webhooks;

beforeAll(async () => {
  stripe = await startStripe('sk_test_x');
  [t, offline] = await Promise.all([
    startApp({ STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_API_BASE: stripe.url }),
    startApp(),
  ]);
});
afterAll(async () => {
  await Promise.all([t?.close(), offline?.close()]);
  await stripe?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const rid = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;

function event(type: string, object: Record<string, unknown>, created = now()) {
  return {
    id: rid('evt'), object: 'event', api_version: '2026-10-28.endive', created, livemode: false,
    pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, data: { object },
  };
}

async function post(app: TestApp, body: string, signature?: string) {
  const res = await fetch(`${app.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'stripe-signature': signature } : {}) },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** Delivers an event signed as Stripe would (the SDK's test header), optionally at another time or with another secret. */
function deliver(evt: object, opts: { timestamp?: number; secret?: string; app?: TestApp } = {}) {
  const payload = JSON.stringify(evt);
  const signature = signer.generateTestHeaderString({ payload, secret: opts.secret ?? SECRET, timestamp: opts.timestamp });
  return post(opts.app ?? t, payload, signature);
}

const billingRow = (org: TestOrg): Promise<OrgBillingRow | null> => t.db.inOrg(org.orgId, (em) => new BillingRepository(em).find(org.orgId));
const summary = async (org: TestOrg) => (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/billing`)).body;
const audits = async (org: TestOrg) =>
  (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/audit-events?type=billing.*`)).body.data as Array<{ type: string; actor: { type: string }; after: Record<string, unknown> }>;

/** Every stored delivery of an event, whichever org (or none) it went to: read as the database owner. */
async function storedEvents(eventId: string): Promise<Array<{ org_id: string | null; outcome: string }>> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    let rows: Array<{ org_id: string | null; outcome: string }> = [];
    await t.db.orm.em.fork({ clear: true }).transactional(async (tx) => {
      await tx.execute('SET LOCAL ROLE NONE');
      rows = await tx.execute('SELECT org_id, outcome FROM stripe_events WHERE id = ?', [eventId]);
    });
    return rows;
  }
  const owner = new pg.Client({ connectionString: url });
  await owner.connect();
  try {
    return (await owner.query('SELECT org_id, outcome FROM stripe_events WHERE id = $1', [eventId])).rows;
  } finally {
    await owner.end();
  }
}

/** An org with a Stripe customer (as a first checkout leaves it) and, optionally, a subscription Stripe knows. */
async function customerOrg(): Promise<{ org: TestOrg; customer: string }> {
  const org = await createOrg(t);
  const customer = rid('cus');
  await t.db.inOrg(org.orgId, async (em) => {
    const repo = new BillingRepository(em);
    await repo.lockOrCreate(org.orgId, 'free');
    await repo.setCustomer(org.orgId, customer);
  });
  return { org, customer };
}

async function subscribedOrg(priceId = 'price_team_example') {
  const { org, customer } = await customerOrg();
  const sub = stripe.setSubscription({ customer, status: 'active', priceId });
  expect((await deliver(event('customer.subscription.created', sub))).body.outcome).toBe('processed');
  return { org, customer, sub };
}

const invoice = (customer: string, subscription: string) => ({
  id: rid('in'), object: 'invoice', customer, currency: 'usd', amount_due: 4900, amount_paid: 0,
  parent: { type: 'subscription_details', subscription_details: { subscription, metadata: {} } },
});

describe('signature', () => {
  test('a bad signature (another secret, a tampered body, none) is 400 and changes nothing', async () => {
    const { org, customer } = await customerOrg();
    const sub = stripe.setSubscription({ customer, status: 'active', priceId: 'price_team_example' });
    const evt = event('customer.subscription.created', sub);
    const payload = JSON.stringify(evt);
    const forged = await deliver(evt, { secret: 'whsec_attacker' });
    const tampered = await post(t, payload.replace('"active"', '"trialing"'), signer.generateTestHeaderString({ payload, secret: SECRET }));
    const missing = await post(t, payload);
    expect([forged.status, tampered.status, missing.status]).toEqual([400, 400, 400]);
    expect(forged.body.code).toBe('webhook.signature_invalid');
    expect(tampered.body.code).toBe('webhook.signature_invalid');
    expect(missing.body.code).toBe('webhook.signature_missing');
    expect(await storedEvents(evt.id)).toEqual([]);
    expect(await billingRow(org)).toMatchObject({ plan: 'free', status: 'none', stripe_subscription_id: null });
    expect(await audits(org)).toEqual([]);
  });

  test('a stale timestamp (older than the SDK\'s 5-minute tolerance) is 400 and changes nothing', async () => {
    const { org, customer } = await customerOrg();
    const sub = stripe.setSubscription({ customer, status: 'active', priceId: 'price_team_example' });
    const evt = event('customer.subscription.created', sub);
    const stale = await deliver(evt, { timestamp: now() - 600 });
    expect(stale.status).toBe(400);
    expect(stale.body.code).toBe('webhook.signature_invalid');
    expect(await storedEvents(evt.id)).toEqual([]);
    expect((await summary(org)).plan).toBe('free');
  });

  test('a body over 1 MB is 413 before any verification', async () => {
    const res = await post(t, `{"pad":"${'x'.repeat(1024 * 1024)}"}`, 't=1,v1=00');
    expect(res.status).toBe(413);
  });

  test('billing off: /webhooks/stripe does not exist (404)', async () => {
    const evt = event('invoice.paid', invoice(rid('cus'), rid('sub')));
    expect((await deliver(evt, { app: offline })).status).toBe(404);
  });
});

describe('exactly once', () => {
  test('the same event delivered three times, two at once, has one effect and one audit event', async () => {
    const { org, customer } = await customerOrg();
    const sub = stripe.setSubscription({ customer, status: 'active', priceId: 'price_team_example' });
    const evt = event('customer.subscription.created', sub);
    const concurrent = await Promise.all([deliver(evt), deliver(evt)]);
    const later = await deliver(evt);
    expect([...concurrent, later].map((r) => r.status)).toEqual([200, 200, 200]);
    expect([...concurrent.map((r) => r.body.outcome), later.body.outcome].sort()).toEqual(['duplicate', 'duplicate', 'processed']);
    expect(await storedEvents(evt.id)).toEqual([{ org_id: org.orgId, outcome: 'processed' }]);
    const changes = (await audits(org)).filter((a) => a.type === 'billing.plan_changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ actor: { type: 'system' }, after: { from: 'free', to: 'team', status: 'active' } });
  });

  test('a failed payment redelivered is audited once', async () => {
    const { org, customer, sub } = await subscribedOrg();
    stripe.setSubscription({ id: sub.id as string, customer, status: 'past_due', priceId: 'price_team_example' });
    const evt = event('invoice.payment_failed', invoice(customer, sub.id as string));
    await deliver(evt);
    await deliver(evt);
    expect((await audits(org)).filter((a) => a.type === 'billing.payment_failed')).toHaveLength(1);
  });
});

describe('out of order', () => {
  test('an older event delivered after a newer one leaves the newer state (Stripe\'s current subscription)', async () => {
    const { org, customer } = await customerOrg();
    const subId = rid('sub');
    const older = event('customer.subscription.updated', { ...stripe.setSubscription({ id: subId, customer, status: 'active', priceId: 'price_starter_example' }) }, now() - 60);
    const current = stripe.setSubscription({ id: subId, customer, status: 'active', priceId: 'price_enterprise_example' });
    const newer = event('customer.subscription.updated', current);
    expect((await deliver(newer)).body.outcome).toBe('processed');
    expect((await deliver(older)).body.outcome).toBe('processed');
    expect(await summary(org)).toMatchObject({ plan: 'enterprise', status: 'active' });
  });

  test('a state fetched before the stored one (a slower delivery committing last) is not applied', async () => {
    const { org, customer, sub } = await subscribedOrg();
    // What a concurrent delivery that asked Stripe later has already stored.
    await asDatabaseOwner(t, [["UPDATE org_billing SET subscription_synced_at = now() + interval '1 minute' WHERE org_id = ?", [org.orgId]]]);
    stripe.setSubscription({ id: sub.id as string, customer, status: 'active', priceId: 'price_starter_example' });
    expect((await deliver(event('customer.subscription.updated', sub))).body.outcome).toBe('processed');
    expect(await billingRow(org)).toMatchObject({ plan: 'team' });
  });

  test('the end of an old subscription does not end the org\'s current one', async () => {
    const { org, customer } = await subscribedOrg();
    const old = stripe.setSubscription({ customer, status: 'canceled', priceId: 'price_starter_example' });
    await deliver(event('customer.subscription.deleted', old));
    expect(await summary(org)).toMatchObject({ plan: 'team', status: 'active' });
  });
});

describe('plan changes', () => {
  test('subscription deleted: the org is on free, audited from the plan it had', async () => {
    const { org, customer, sub } = await subscribedOrg();
    const ended = stripe.setSubscription({ id: sub.id as string, customer, status: 'canceled', priceId: 'price_team_example' });
    expect((await deliver(event('customer.subscription.deleted', ended))).body.outcome).toBe('processed');
    expect(await summary(org)).toMatchObject({ plan: 'free', status: 'canceled' });
    expect((await audits(org)).find((a) => a.type === 'billing.plan_changed' && a.after.to === 'free')?.after)
      .toMatchObject({ from: 'team', to: 'free', status: 'canceled' });
  });

  test('payment failed: past_due with a grace period, the plan kept; a second failure keeps the same grace', async () => {
    const { org, customer, sub } = await subscribedOrg();
    stripe.setSubscription({ id: sub.id as string, customer, status: 'past_due', priceId: 'price_team_example' });
    await deliver(event('invoice.payment_failed', invoice(customer, sub.id as string)));
    const row = await billingRow(org);
    expect(row).toMatchObject({ plan: 'team', status: 'past_due' });
    const graceDays = (row!.grace_until!.getTime() - Date.now()) / 86_400_000;
    expect(graceDays).toBeGreaterThan(6.9);
    expect(graceDays).toBeLessThanOrEqual(7);
    expect(await summary(org)).toMatchObject({ plan: 'team', status: 'past_due' });
    expect((await audits(org)).map((a) => a.type)).toContain('billing.payment_failed');

    await deliver(event('invoice.payment_failed', invoice(customer, sub.id as string)));
    expect((await billingRow(org))!.grace_until).toEqual(row!.grace_until);
  });

  test('after the grace period the org is on free; a payment then brings the plan back and clears grace', async () => {
    const { org, customer, sub } = await subscribedOrg();
    stripe.setSubscription({ id: sub.id as string, customer, status: 'past_due', priceId: 'price_team_example' });
    await deliver(event('invoice.payment_failed', invoice(customer, sub.id as string)));
    await asDatabaseOwner(t, [["UPDATE org_billing SET grace_until = now() - interval '1 hour' WHERE org_id = ?", [org.orgId]]]);
    expect(await summary(org)).toMatchObject({ plan: 'free', status: 'past_due' });

    stripe.setSubscription({ id: sub.id as string, customer, status: 'active', priceId: 'price_team_example' });
    await deliver(event('invoice.paid', { ...invoice(customer, sub.id as string), amount_paid: 4900 }));
    expect(await summary(org)).toMatchObject({ plan: 'team', status: 'active' });
    expect((await billingRow(org))!.grace_until).toBeNull();
    expect((await audits(org)).map((a) => a.type)).toContain('billing.payment_succeeded');
  });

  test('upgrade: a completed checkout links the customer and unlocks the plan at once', async () => {
    const org = await createOrg(t);
    const teams = `/api/v1/orgs/${org.orgId}/teams`;
    expect((await org.owner.api('POST', teams, { name: 'Before' })).body.code).toBe('plan.feature_unavailable');
    expect((await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/billing/checkout`, { plan: 'enterprise' })).status).toBe(200);
    const customer = (await billingRow(org))!.stripe_customer_id!;
    const sub = stripe.setSubscription({ customer, status: 'active', priceId: 'price_enterprise_example' });
    const session = { id: rid('cs_test'), object: 'checkout.session', mode: 'subscription', customer, subscription: sub.id, client_reference_id: org.orgId, metadata: { org_id: org.orgId } };
    expect((await deliver(event('checkout.session.completed', session))).body.outcome).toBe('processed');
    expect(await summary(org)).toMatchObject({ plan: 'enterprise', status: 'active' });
    expect((await org.owner.api('POST', teams, { name: 'After' })).status).toBe(201);
  });

  test('a downgrade by webhook disables the SSO connection without deleting it; a new subscription brings it back', async () => {
    const { org, customer, sub } = await subscribedOrg('price_enterprise_example');
    const conn = await oidcConnection(t, org.orgId, { issuer: 'https://idp.example.test', clientId: 'gatehouse' }, 'upstream-secret');
    const connection = () => org.owner.api('GET', `/api/v1/orgs/${org.orgId}/connections/${conn.id}`);
    const ended = stripe.setSubscription({ id: sub.id as string, customer, status: 'canceled', priceId: 'price_enterprise_example' });
    await deliver(event('customer.subscription.deleted', ended));
    expect(await connection()).toMatchObject({ status: 200, body: { id: conn.id, active: true, disabledByPlan: true } });

    const renewed = stripe.setSubscription({ customer, status: 'active', priceId: 'price_enterprise_example' });
    await deliver(event('customer.subscription.created', renewed));
    expect(await summary(org)).toMatchObject({ plan: 'enterprise', status: 'active' });
    expect((await connection()).body.disabledByPlan).toBe(false);
  });

  test('a checkout naming an org linked to another customer is stored, ignored, and changes nothing', async () => {
    const { org } = await customerOrg();
    const intruder = rid('cus');
    const sub = stripe.setSubscription({ customer: intruder, status: 'active', priceId: 'price_enterprise_example' });
    const evt = event('checkout.session.completed', { id: rid('cs_test'), object: 'checkout.session', mode: 'subscription', customer: intruder, subscription: sub.id, client_reference_id: org.orgId });
    expect((await deliver(evt)).body.outcome).toBe('ignored');
    expect(await storedEvents(evt.id)).toEqual([{ org_id: null, outcome: 'ignored' }]);
    expect(await billingRow(org)).toMatchObject({ plan: 'free', status: 'none', stripe_subscription_id: null });
  });

  test('M1: a checkout by another customer naming an org with no customer yet (a Payment Link) is ignored; the org stays unlinked', async () => {
    const victim = await createOrg(t);
    const attacker = rid('cus_attacker');
    const sub = stripe.setSubscription({ customer: attacker, status: 'active', priceId: 'price_enterprise_example' });
    const evt = event('checkout.session.completed', { id: rid('cs_test'), object: 'checkout.session', mode: 'subscription', customer: attacker, subscription: sub.id, client_reference_id: victim.orgId });
    expect(await deliver(evt)).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(await storedEvents(evt.id)).toEqual([{ org_id: null, outcome: 'ignored' }]);
    expect(await billingRow(victim)).toBeNull();
    expect(await summary(victim)).toMatchObject({ plan: 'free', status: 'none' });
    // the attacker's customer is linked to no org, so its later events find nothing either
    expect((await deliver(event('customer.subscription.updated', sub))).body.outcome).toBe('ignored');
    expect(await billingRow(victim)).toBeNull();
  });

  test('M1: metadata.org_id (set by Gatehouse) wins over a client_reference_id naming another org', async () => {
    const { org, customer } = await customerOrg();
    const other = await createOrg(t);
    const sub = stripe.setSubscription({ customer, status: 'active', priceId: 'price_team_example' });
    const evt = event('checkout.session.completed', { id: rid('cs_test'), object: 'checkout.session', mode: 'subscription', customer, subscription: sub.id, client_reference_id: other.orgId, metadata: { org_id: org.orgId } });
    expect((await deliver(evt)).body.outcome).toBe('processed');
    expect(await billingRow(org)).toMatchObject({ plan: 'team', status: 'active' });
    expect(await billingRow(other)).toBeNull();
  });

  test('M5: a subscription whose price is in no plan puts the org on free (status kept), not its previous plan', async () => {
    const { org, customer, sub } = await subscribedOrg('price_enterprise_example');
    expect(await summary(org)).toMatchObject({ plan: 'enterprise' });
    const changed = stripe.setSubscription({ id: sub.id as string, customer, status: 'active', priceId: 'price_made_in_the_dashboard' });
    expect((await deliver(event('customer.subscription.updated', changed))).body.outcome).toBe('processed');
    expect(await billingRow(org)).toMatchObject({ plan: 'free', status: 'active', stripe_subscription_id: sub.id });
    expect(await summary(org)).toMatchObject({ plan: 'free', status: 'active' });
    expect((await audits(org)).find((e) => e.type === 'billing.plan_changed' && e.after.to === 'free')).toBeDefined();
  });

  test('a checkout naming no existing org is ignored', async () => {
    const customer = rid('cus');
    const sub = stripe.setSubscription({ customer, status: 'active', priceId: 'price_team_example' });
    const evt = event('checkout.session.completed', { id: rid('cs_test'), object: 'checkout.session', mode: 'subscription', customer, subscription: sub.id, client_reference_id: '00000000-0000-4000-8000-000000000000' });
    expect(await deliver(evt)).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
  });

  test('an unknown event type is 200, stored and ignored', async () => {
    const evt = event('customer.tax_id.created', { id: rid('txi'), object: 'tax_id' });
    expect(await deliver(evt)).toMatchObject({ status: 200, body: { received: true, outcome: 'ignored' } });
    expect(await storedEvents(evt.id)).toEqual([{ org_id: null, outcome: 'ignored' }]);
  });
});

describe('stored events and tenancy', () => {
  test('an org reads only its own events; the platform role reads none', async () => {
    const { org } = await subscribedOrg();
    const other = await createOrg(t);
    const count = (orgId: string) => t.db.inOrg(orgId, async (em) => (await em.execute('SELECT id FROM stripe_events')).length);
    expect(await count(org.orgId)).toBe(1);
    expect(await count(other.orgId)).toBe(0);
    await expect(t.db.asPlatform((em) => em.execute('SELECT id FROM stripe_events'))).rejects.toThrow(/permission denied/);
  });
});
