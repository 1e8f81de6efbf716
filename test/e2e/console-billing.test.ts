import type { Browser, Page } from 'playwright-core';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, signInAs } from '../helpers/chromium.ts';
import { createOrgWithOwner } from '../helpers/console-org.ts';
import type { TestOrg } from '../helpers/factories.ts';
import { createMember, testPassword } from '../helpers/sign-in.ts';
import { startStripe, type StripeStandIn } from '../helpers/stripe-stand-in.ts';

// The console's billing page in a real browser, with billing on against the local Stripe
// stand-in (its Checkout and Portal pages answered by the stand-in itself), and with billing off.

let stripe: StripeStandIn;
let t: TestApp;
let offline: TestApp;
let browser: Browser;

beforeAll(async () => {
  stripe = await startStripe(undefined, { hostedPages: true });
  [t, offline, browser] = await Promise.all([
    startAppAtPublicUrl({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_WEBHOOK_SECRET: 'whsec_consolebilling', STRIPE_API_BASE: stripe.url }),
    startAppAtPublicUrl(),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([t?.close(), offline?.close()]);
  await stripe?.close();
});

async function signedIn(app: TestApp, org: TestOrg, email: string, path: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${app.url}/admin/orgs/${org.orgId}/${path}`);
  await signInAs(page, { email, password: testPassword });
  await page.waitForURL(`${app.url}/admin/orgs/${org.orgId}/${path}`);
  return page;
}

test('an owner sees the plan and seats, upgrades through Checkout, then opens the billing portal', async () => {
  const org = await createOrgWithOwner(t, `Pay ${Date.now()}`);
  const page = await signedIn(t, org, org.owner.email, 'billing');
  const values = await page.locator('dl.values').textContent();
  expect(values).toContain('Free');
  expect(values).toContain('1 used of 1');
  expect(await page.getByRole('button', { name: 'Upgrade to Free' }).count()).toBe(0);
  await checkPage(page, 'billing');

  await page.getByRole('button', { name: 'Upgrade to Team' }).click();
  await page.waitForURL(new RegExp(`^${stripe.url}/c/pay/cs_test_`));
  await page.getByRole('heading', { name: 'Stripe Checkout stand-in' }).waitFor();
  const session = stripe.sent('/v1/checkout/sessions').find((r) => r.form.client_reference_id === org.orgId);
  expect(session?.form['line_items[0][price]']).toBe('price_team_example');

  await page.goto(`${t.url}/admin/orgs/${org.orgId}/billing`);
  await page.getByRole('button', { name: 'Manage billing' }).click();
  await page.waitForURL(new RegExp(`^${stripe.url}/p/session/bps_`));
  await page.getByRole('heading', { name: 'Stripe Billing Portal stand-in' }).waitFor();
  await page.context().close();
});

test('back from Checkout, the page says how it went', async () => {
  const org = await createOrgWithOwner(t, `Back ${Date.now()}`);
  const page = await signedIn(t, org, org.owner.email, 'billing');
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/billing?checkout=success`);
  await page.getByRole('status').filter({ hasText: 'Checkout complete' }).waitFor();
  await checkPage(page, 'billing-checkout-success');
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/billing?checkout=cancelled`);
  await page.getByRole('status').filter({ hasText: 'Checkout was cancelled: nothing changed.' }).waitFor();
  await checkPage(page, 'billing-checkout-cancelled');
  await page.context().close();
});

test('the billing portal before any checkout is refused with the API\'s message and opens nothing', async () => {
  const org = await createOrgWithOwner(t, `New ${Date.now()}`);
  const page = await signedIn(t, org, org.owner.email, 'billing');
  const portals = stripe.sent('/v1/billing_portal/sessions').length;
  await page.getByRole('button', { name: 'Manage billing' }).click();
  await page.getByRole('alert').filter({ hasText: 'no billing account yet' }).waitFor();
  expect(page.url()).toBe(`${t.url}/admin/orgs/${org.orgId}/billing`);
  expect(stripe.sent('/v1/billing_portal/sessions')).toHaveLength(portals);
  await checkPage(page, 'billing-no-customer');
  await page.context().close();
});

test('on a plan without audit_export, the export is refused with the 402 message on the audit page', async () => {
  const org = await createOrgWithOwner(t, `Free ${Date.now()}`);
  const page = await signedIn(t, org, org.owner.email, 'audit');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  await page.getByRole('alert').filter({ hasText: /plan/i }).waitFor();
  expect(page.url()).toBe(`${t.url}/admin/orgs/${org.orgId}/audit`);
  await checkPage(page, 'audit-export-refused');
  await page.context().close();
});

test('an admin gets no Billing nav, and a 403 page at its address', async () => {
  const org = await createOrgWithOwner(t, `Admin ${Date.now()}`);
  const admin = await createMember(t, [[org, 'admin']], 'admin');
  const page = await signedIn(t, org, admin.email, 'members');
  expect(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Billing' }).count()).toBe(0);
  const res = await page.goto(`${t.url}/admin/orgs/${org.orgId}/billing`);
  expect(res?.status()).toBe(403);
  expect(await page.getByRole('button', { name: /Upgrade|Manage billing/ }).count()).toBe(0);
  await checkPage(page, 'billing-admin-forbidden');
  await page.context().close();
});

test('with billing off, the page says so and offers no upgrade', async () => {
  const org = await createOrgWithOwner(offline, `Self ${Date.now()}`);
  const page = await signedIn(offline, org, org.owner.email, 'billing');
  await page.getByText('Billing is not enabled on this deployment').waitFor();
  expect(await page.getByRole('button', { name: /Upgrade|Manage billing/ }).count()).toBe(0);
  await checkPage(page, 'billing-off');
  await page.context().close();
});
