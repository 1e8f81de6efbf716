import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { startStripe, type StripeStandIn } from '../helpers/stripe-stand-in.ts';
import { BillingRepository, type OrgBillingRow } from '../../src/modules/billing/billing.repository.ts';
import { stripeApiVersion } from '../../src/modules/billing/stripe-client.ts';
import { assertSeatsAvailable, entitlementsOf } from '../../src/modules/billing/entitlements.ts';
import { OrgScope } from '../../src/modules/scope.ts';

// The billing API against a local Stripe stand-in (STRIPE_API_BASE): the org's plan, Checkout
// and the Billing Portal, owner only; and the same API with billing off (self-hosted).

let stripe: StripeStandIn;
let t: TestApp;
let offline: TestApp;

beforeAll(async () => {
  stripe = await startStripe();
  [t, offline] = await Promise.all([
    startApp({
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: 'whsec_billingtest',
      STRIPE_API_BASE: stripe.url,
      PUBLIC_URL: 'https://gatehouse.example.test',
    }),
    startApp(),
  ]);
});
afterAll(async () => {
  await Promise.all([t?.close(), offline?.close()]);
  await stripe?.close();
});

const billing = (org: TestOrg) => `/api/v1/orgs/${org.orgId}/billing`;
const row = (org: TestOrg): Promise<OrgBillingRow | null> =>
  t.db.inOrg(org.orgId, (em) => new BillingRepository(em).find(org.orgId));
const customersOf = (org: TestOrg) => [...stripe.customers.values()].filter((c) => (c.metadata as Record<string, string>).org_id === org.orgId);
const auditTypes = async (org: TestOrg) =>
  (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/audit-events?type=billing.*`)).body.data.map((e: { type: string }) => e.type);

describe('GET /billing', () => {
  test('billing on, no subscription yet: the free plan, its seats, no period', async () => {
    const org = await createOrg(t);
    await addMember(t, org.orgId, 'admin');
    const res = await org.owner.api('GET', billing(org));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      plan: 'free', planName: 'Free', status: 'none', seats: { used: 2, allowed: 1 }, periodEnd: null, billing: true,
    });
  });

  test('billing off: the self-hosted plan (GATEHOUSE_DEFAULT_PLAN), no seat limit', async () => {
    const org = await createOrg(offline);
    const res = await org.owner.api('GET', billing(org));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ plan: 'enterprise', status: 'none', seats: { used: 1, allowed: null }, periodEnd: null, billing: false });
  });
});

describe('POST /billing/checkout', () => {
  test('a subscription Checkout Session for the plan\'s price, for a customer made once and stored', async () => {
    const org = await createOrg(t);
    const res = await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'team' });
    expect(res.status).toBe(200);
    expect(res.body.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);

    const [customer] = customersOf(org);
    expect(customersOf(org)).toHaveLength(1);
    const session = stripe.sent('/v1/checkout/sessions').find((r) => r.form.client_reference_id === org.orgId)!;
    expect(session.form).toMatchObject({
      mode: 'subscription',
      customer: customer!.id,
      'line_items[0][price]': 'price_team_example',
      'line_items[0][quantity]': '1',
      'metadata[org_id]': org.orgId,
      'subscription_data[metadata][org_id]': org.orgId,
    });
    // L5: back to the web console's billing page of the org
    expect(session.form.success_url).toBe(`https://gatehouse.example.test/admin/orgs/${org.orgId}/billing?checkout=success`);
    expect(session.form.cancel_url).toBe(`https://gatehouse.example.test/admin/orgs/${org.orgId}/billing?checkout=cancelled`);
    expect(session.stripeVersion).toBe(stripeApiVersion);
    expect((await row(org))?.stripe_customer_id).toBe(customer!.id);
    expect(await auditTypes(org)).toEqual(['billing.checkout_started']);

    // A second checkout reuses the stored customer.
    expect((await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'starter' })).status).toBe(200);
    expect(customersOf(org)).toHaveLength(1);
  });

  test('two concurrent first checkouts create one customer', async () => {
    const org = await createOrg(t);
    const results = await Promise.all([1, 2, 3].map(() => org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'starter' })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(customersOf(org)).toHaveLength(1);
    expect(stripe.sent('/v1/customers').filter((r) => r.form['metadata[org_id]'] === org.orgId)).toHaveLength(1);
  });

  test('an unknown plan or a plan without a price is a 400, and nothing reaches Stripe or the database', async () => {
    const org = await createOrg(t);
    const before = stripe.requests.length;
    const unknown = await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'platinum' });
    const free = await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'free' });
    const missing = await org.owner.api('POST', `${billing(org)}/checkout`, {});
    expect([unknown.status, free.status, missing.status]).toEqual([400, 400, 400]);
    expect(unknown.body.code).toBe('billing.plan_unknown');
    expect(free.body.code).toBe('billing.plan_not_for_sale');
    expect(missing.body.code).toBe('request.invalid');
    expect(stripe.requests.length).toBe(before);
    expect(await row(org)).toBeNull();
  });

  test('Stripe down: 502 billing.stripe_unavailable, nothing stored; the retry later gets the same customer', async () => {
    const org = await createOrg(t);
    stripe.failures.set('/v1/checkout/sessions', { status: 503, type: 'api_error', times: 3 });
    const down = await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'team' });
    expect(down.status).toBe(502);
    expect(down.body.code).toBe('billing.stripe_unavailable');
    expect(down.body.detail).not.toMatch(/stand-in/);
    expect(await row(org)).toBeNull();
    expect(await auditTypes(org)).toEqual([]);
    // The SDK retried (1 + maxNetworkRetries) with one idempotency key.
    const attempts = stripe.sent('/v1/checkout/sessions').filter((r) => r.form.client_reference_id === org.orgId);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.idempotencyKey)).size).toBe(1);

    stripe.failures.delete('/v1/checkout/sessions');
    expect((await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'team' })).status).toBe(200);
    // The customer made before the failure is found again by its idempotency key, not duplicated.
    expect(customersOf(org)).toHaveLength(1);
    expect((await row(org))?.stripe_customer_id).toBe(customersOf(org)[0]!.id);
  });

  test('an org with a live subscription is sent to the portal: 409 billing.already_subscribed, nothing sent', async () => {
    const org = await createOrg(t);
    await t.db.inOrg(org.orgId, (em) => em.execute(
      `INSERT INTO org_billing (org_id, plan, status, stripe_customer_id, stripe_subscription_id) VALUES (?, 'team', 'active', ?, ?)`,
      [org.orgId, `cus_live${org.orgId.slice(0, 8)}`, `sub_live${org.orgId.slice(0, 8)}`]));
    const before = stripe.requests.length;
    const res = await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'enterprise' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('billing.already_subscribed');
    expect(stripe.requests.length).toBe(before);
  });

  test('Stripe refusing the request: 502 billing.stripe_failed, nothing stored', async () => {
    const org = await createOrg(t);
    stripe.failures.set('/v1/customers', { status: 400, type: 'invalid_request_error', times: 1 });
    const res = await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'team' });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('billing.stripe_failed');
    expect(await row(org)).toBeNull();
    expect(customersOf(org)).toHaveLength(0);
  });
});

describe('POST /billing/portal', () => {
  test('409 billing.no_customer before the first checkout; then a portal session for the org\'s customer', async () => {
    const org = await createOrg(t);
    const early = await org.owner.api('POST', `${billing(org)}/portal`);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('billing.no_customer');

    expect((await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'team' })).status).toBe(200);
    const res = await org.owner.api('POST', `${billing(org)}/portal`);
    expect(res.status).toBe(200);
    expect(res.body.url).toMatch(/^https:\/\/billing\.stripe\.test\/p\/session\/bps_/);
    const customer = (await row(org))!.stripe_customer_id!;
    const sent = stripe.sent('/v1/billing_portal/sessions').find((r) => r.form.customer === customer)!;
    expect(sent.form.return_url).toBe(`https://gatehouse.example.test/admin/orgs/${org.orgId}/billing`);
    expect(await auditTypes(org)).toEqual(['billing.portal_opened', 'billing.checkout_started']);
  });
});

describe('refusals', () => {
  test.each(['admin', 'member', 'viewer'])('as %s: may not read or manage billing (403), and nothing is sent or stored', async (role) => {
    const org = await createOrg(t);
    const actor = await addMember(t, org.orgId, role);
    const before = stripe.requests.length;
    const answers = [
      await actor.api('GET', billing(org)),
      await actor.api('POST', `${billing(org)}/checkout`, { plan: 'team' }),
      await actor.api('POST', `${billing(org)}/portal`),
    ];
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403]);
    expect(answers.every((a) => a.body.code === 'auth.forbidden')).toBe(true);
    expect(stripe.requests.length).toBe(before);
    expect(await row(org)).toBeNull();
  });

  test('another org\'s owner gets nothing of this org\'s billing', async () => {
    const [org, other] = await Promise.all([createOrg(t), createOrg(t)]);
    const before = stripe.requests.length;
    const res = await other.owner.api('POST', `${billing(org)}/checkout`, { plan: 'team' });
    expect(res.status).toBe(404);
    expect(stripe.requests.length).toBe(before);
    expect(await row(org)).toBeNull();
  });

  test('billing off: checkout and portal answer 409 billing.off with a clear message', async () => {
    const org = await createOrg(offline);
    const checkout = await org.owner.api('POST', `${billing(org)}/checkout`, { plan: 'team' });
    const portal = await org.owner.api('POST', `${billing(org)}/portal`);
    expect([checkout.status, portal.status]).toEqual([409, 409]);
    expect(checkout.body.code).toBe('billing.off');
    expect(portal.body.code).toBe('billing.off');
    expect(checkout.body.detail).toMatch(/STRIPE_SECRET_KEY/);
  });
});

describe('entitlements', () => {
  const meta = { ip: null, userAgent: 'billing test', requestId: null };
  const store = (org: TestOrg, plan: string, status: string, graceUntil: Date | null = null) => t.db.inOrg(org.orgId, (em) => em.execute(
    `INSERT INTO org_billing (org_id, plan, status, current_period_end, grace_until) VALUES (?, ?, ?, ?, ?)`,
    [org.orgId, plan, status, new Date('2031-01-31T00:00:00Z'), graceUntil]));
  const planOf = async (org: TestOrg, app = t) => app.db.inOrg(org.orgId, (em) =>
    entitlementsOf(new OrgScope(org.orgId, em, null, meta), app.app.services.plans, app.app.services.billing));

  test('an active subscription gives its plan and period end', async () => {
    const org = await createOrg(t);
    await store(org, 'team', 'active');
    const res = await org.owner.api('GET', billing(org));
    expect(res.body).toMatchObject({ plan: 'team', status: 'active', seats: { used: 1, allowed: 50 }, periodEnd: '2031-01-31T00:00:00.000Z' });
  });

  test.each([
    ['past_due within grace', 'team', 'past_due', new Date(Date.now() + 86400_000)],
    ['past_due after grace', 'free', 'past_due', new Date(Date.now() - 1000)],
    ['canceled', 'free', 'canceled', null],
    ['incomplete', 'free', 'incomplete', null],
    ['trialing', 'team', 'trialing', null],
  ] as const)('a team subscription %s → %s', async (_name, expected, status, grace) => {
    const org = await createOrg(t);
    await store(org, 'team', status, grace);
    expect((await planOf(org)).plan.key).toBe(expected);
  });

  test('a plan no longer in the file falls back to free', async () => {
    const org = await createOrg(t);
    await store(org, 'gold-legacy', 'active');
    expect((await planOf(org)).plan.key).toBe('free');
  });

  test('billing off ignores any stored subscription: the self-hosted plan', async () => {
    const org = await createOrg(offline);
    await offline.db.inOrg(org.orgId, (em) => em.execute(`INSERT INTO org_billing (org_id, plan, status) VALUES (?, 'free', 'canceled')`, [org.orgId]));
    expect(await planOf(org, offline)).toMatchObject({ plan: { key: 'enterprise' }, status: 'canceled', billing: false });
  });

  test('the seat limit counts members plus pending invitations and throws 402 plan.seat_limit past it', async () => {
    const org = await createOrg(t);
    await store(org, 'starter', 'active');
    const invited = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: `seat-${Date.now()}@example.test`, role: 'member' });
    expect(invited.status).toBe(201);
    const check = (adding: number) => t.db.inOrg(org.orgId, async (em) => {
      const scope = new OrgScope(org.orgId, em, null, meta);
      await assertSeatsAvailable(scope, await entitlementsOf(scope, t.app.services.plans, true), adding);
    });
    // starter: 10 seats; the owner and the pending invitation take 2.
    await expect(check(8)).resolves.toBeUndefined();
    await expect(check(9)).rejects.toMatchObject({ status: 402, code: 'plan.seat_limit' });
  });
});
