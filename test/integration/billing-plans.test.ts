import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg } from '../helpers/factories.ts';
import { startStripe, type StripeStandIn } from '../helpers/stripe-stand-in.ts';

// GET /billing/plans: the plan catalogue an owner upgrades from (the console's billing page).

let stripe: StripeStandIn;
let t: TestApp;
let offline: TestApp;

beforeAll(async () => {
  stripe = await startStripe();
  [t, offline] = await Promise.all([
    startApp({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_WEBHOOK_SECRET: 'whsec_planstest', STRIPE_API_BASE: stripe.url }),
    startApp(),
  ]);
});
afterAll(async () => {
  await Promise.all([t?.close(), offline?.close()]);
  await stripe?.close();
});

const plansOf = (orgId: string) => `/api/v1/orgs/${orgId}/billing/plans`;

test('billing on: every plan cheapest first, those with a Stripe price for sale, no price ids', async () => {
  const org = await createOrg(t);
  const res = await org.owner.api('GET', plansOf(org.orgId));
  expect(res.status).toBe(200);
  expect(res.body.data.map((p: { key: string; forSale: boolean }) => [p.key, p.forSale])).toEqual([
    ['free', false], ['starter', true], ['team', true], ['enterprise', true],
  ]);
  expect(res.body.data[2]).toMatchObject({ name: 'Team', seats: 50, apiKeyLimit: 50, auditRetentionDays: 30, features: ['custom_roles', 'teams', 'audit_export'] });
  expect(JSON.stringify(res.body)).not.toContain('price_');
});

test('billing off: the plans are listed, none for sale', async () => {
  const org = await createOrg(offline);
  const res = await org.owner.api('GET', plansOf(org.orgId));
  expect(res.status).toBe(200);
  expect(res.body.data.every((p: { forSale: boolean }) => !p.forSale)).toBe(true);
});

test('an admin (no billing:manage) is refused with 403', async () => {
  const org = await createOrg(t);
  const admin = await addMember(t, org.orgId, 'admin');
  const res = await admin.api('GET', plansOf(org.orgId));
  expect(res.status).toBe(403);
  expect(res.body.data).toBeUndefined();
});

test('another org\'s owner gets 404 for this org\'s plans', async () => {
  const [org, other] = await Promise.all([createOrg(t), createOrg(t)]);
  const res = await other.owner.api('GET', plansOf(org.orgId));
  expect(res.status).toBe(404);
  expect(res.body.data).toBeUndefined();
});

test('an unknown query parameter is a 400', async () => {
  const org = await createOrg(t);
  const res = await org.owner.api('GET', `${plansOf(org.orgId)}?plan=team`);
  expect(res.status).toBe(400);
  expect(res.body.data).toBeUndefined();
});
