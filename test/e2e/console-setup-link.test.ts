import type { Browser, Page } from 'playwright-core';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, overflowsSideways, signInAs } from '../helpers/chromium.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { createMember, testPassword } from '../helpers/sign-in.ts';

// Issue 8, item 3 in a real browser: an admin makes a setup link in the console; a browser
// with no session opens it and reaches its own scope and nothing else; a revocation ends it.

let t: TestApp;
let browser: Browser;
let org: TestOrg;
let admin: { id: string; email: string };

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  browser = await launchChromium();
  org = await createOrg(t, `Acme ${Date.now()}`);
  admin = await createMember(t, [[org, 'admin']], 'setup-admin');
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function adminPage(): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${t.url}/admin`);
  await signInAs(page, { email: admin.email, password: testPassword });
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/setup-links`);
  return page;
}

/** Creates a link through the console's form; its URL is on the response page only. */
async function createLink(page: Page, scope: string, note: string): Promise<string> {
  await page.getByLabel('What it may set up').selectOption(scope);
  await page.getByLabel('Note (optional)').fill(note);
  await page.getByRole('button', { name: 'Create link' }).click();
  return page.locator('#setup-link-url').inputValue();
}

test('an admin creates a setup link in the console: the URL is shown once, then listed without it', async () => {
  const page = await adminPage();
  await checkPage(page, 'setup-links');
  const url = await createLink(page, 'sso', 'for sso IT');
  expect(url).toMatch(new RegExp(`^${t.url}/admin/setup/ghs_[0-9a-f]{16}_[0-9a-f]{48}$`));
  await checkPage(page, 'setup-links-created');
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/setup-links`);
  expect(await page.content()).not.toContain(url.split('_').pop());
  await page.getByRole('cell', { name: 'for sso IT', exact: true }).waitFor();
  await page.context().close();
});

test('a fresh browser opens the link and reaches only its own scope; a revocation ends the portal at once', async () => {
  const adminTab = await adminPage();
  const url = await createLink(adminTab, 'sso', 'for Acme IT');
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  // The link's own URL asks first, naming the org; nothing is kept until Continue.
  const first = await page.goto(url);
  expect(first!.headers()['referrer-policy']).toBe('no-referrer');
  expect(first!.headers()['cache-control']).toBe('no-store');
  await page.getByRole('heading', { level: 1, name: /Set up SSO for Acme .*\?/ }).waitFor();
  expect(await page.locator('dl').textContent()).toContain(org.orgId);
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain('gh_setup');
  expect(await overflowsSideways(page)).toBe(false);
  await checkPage(page, 'setup-portal-interstitial');
  await page.getByRole('button', { name: 'Continue' }).click();
  // The token left the address bar: the portal lives at /admin/setup with a sealed cookie.
  await page.waitForURL(`${t.url}/admin/setup`);
  await page.getByRole('heading', { level: 1, name: /Set up SSO for Acme/ }).waitFor();
  expect(await page.locator('header').textContent()).toContain('Setting up SSO for Acme');
  expect(await page.getByRole('navigation').getByRole('link').allTextContents()).toEqual(['Overview', 'Single sign-on', 'Domains']);
  expect(await overflowsSideways(page)).toBe(false);
  await checkPage(page, 'setup-portal-home');
  // The console's own SSO and domain pages, with the link as their credential.
  await page.getByRole('navigation').getByRole('link', { name: 'Single sign-on' }).click();
  await page.waitForURL(`${t.url}/admin/setup/sso`);
  await checkPage(page, 'setup-portal-sso');
  await page.getByRole('navigation').getByRole('link', { name: 'Domains' }).click();
  await page.waitForURL(`${t.url}/admin/setup/domains`);
  await checkPage(page, 'setup-portal-domains');
  expect((await page.goto(`${t.url}/admin/setup/directories`))!.status()).toBe(404);

  // Nothing beyond its scope: the console proper wants a sign-in, other portal paths are not found,
  // and the cookie is no credential for the API.
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/members`);
  expect(page.url()).not.toContain('/admin/orgs/');
  expect(await page.getByLabel('Email').count()).toBe(1);
  for (const path of ['/admin/setup/members', '/admin/setup/api-keys', '/admin/setup/billing', `/admin/setup/orgs/${org.orgId}/members`]) {
    const res = await page.goto(`${t.url}${path}`);
    expect([path, res!.status()]).toEqual([path, 404]);
  }
  await checkPage(page, 'setup-portal-not-found');
  const api = await page.request.get(`${t.url}/api/v1/orgs/${org.orgId}/members`);
  expect(api.status()).toBe(401);

  // Revoked in the console: the next portal page says the link no longer works.
  await adminTab.goto(`${t.url}/admin/orgs/${org.orgId}/setup-links`);
  adminTab.once('dialog', (dialog) => void dialog.accept()); // the "Revoke?" confirmation
  await adminTab.getByRole('button', { name: 'Revoke the SSO link “for Acme IT”' }).click();
  await adminTab.getByRole('status').filter({ hasText: 'The setup link was revoked' }).waitFor();
  const gone = await page.goto(`${t.url}/admin/setup`);
  expect(gone!.status()).toBe(410);
  await page.getByRole('heading', { level: 1, name: 'This setup link no longer works' }).waitFor();
  await checkPage(page, 'setup-portal-revoked');
  const again = await page.goto(url);
  expect(again!.status()).toBe(410);
  expect(again!.headers()['referrer-policy']).toBe('no-referrer');
  await page.context().close();
  await adminTab.context().close();
});

test('a browser without the link, or with a made-up one, is told to open its link', async () => {
  const page = await (await browser.newContext()).newPage();
  const res = await page.goto(`${t.url}/admin/setup`);
  expect(res!.status()).toBe(401);
  await checkPage(page, 'setup-portal-no-link');
  const fake = await page.goto(`${t.url}/admin/setup/ghs_0123456789abcdef_${'0'.repeat(48)}`);
  expect(fake!.status()).toBe(410);
  await page.context().close();
});

/** The portal's cookie, by name, in this page's browser context. */
async function setupCookie(page: Page): Promise<string | undefined> {
  return (await page.context().cookies()).find((c) => c.name === 'gh_setup')?.value;
}

test('a cross-site style POST without the nonce cookie is refused and stores nothing', async () => {
  const adminTab = await adminPage();
  const url = await createLink(adminTab, 'sso', 'for a forged post');
  const token = url.split('/').pop()!;
  const post = (body: Record<string, string>, cookie?: string) => fetch(`${t.url}/admin/setup/continue`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(body).toString(),
  });
  // Another site's form: the token (the attacker's own) and a guessed or absent nonce, no cookie.
  for (const body of [{ token }, { token, nonce: 'guessed' }] as Record<string, string>[]) {
    const res = await post(body);
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('gh_setup='))).toBe(false);
    expect(await res.text()).not.toContain(token);
  }
  // A real nonce cookie with another nonce in the body is refused as well.
  const opened = await fetch(url);
  const nonceCookie = opened.headers.getSetCookie().find((c) => c.startsWith('gh_setup_nonce='))!.split(';')[0]!;
  const wrong = await post({ token, nonce: 'not-the-one' }, nonceCookie);
  expect(wrong.status).toBe(403);
  expect(wrong.headers.getSetCookie().some((c) => c.startsWith('gh_setup='))).toBe(false);
  // The browser's own page shows the refusal too, and the portal is still closed.
  const page = await (await browser.newContext()).newPage();
  await page.setContent(`<form method="post" action="${t.url}/admin/setup/continue"><input name="token" value="${token}"><button>Go</button></form>`);
  const [res] = await Promise.all([page.waitForResponse(`${t.url}/admin/setup/continue`), page.getByRole('button', { name: 'Go' }).click()]);
  expect(res.status()).toBe(403);
  await page.getByRole('heading', { level: 1, name: 'Open your setup link again' }).waitFor();
  await checkPage(page, 'setup-portal-forged-post');
  expect(await setupCookie(page)).toBeUndefined();
  expect((await page.goto(`${t.url}/admin/setup`))!.status()).toBe(401);
  await page.context().close();
  await adminTab.context().close();
});

test('visiting a second link\'s URL does not replace the portal\'s link until Continue, and says what would change', async () => {
  const adminTab = await adminPage();
  const firstUrl = await createLink(adminTab, 'sso', 'first link');
  await adminTab.goto(`${t.url}/admin/orgs/${org.orgId}/setup-links`);
  const secondUrl = await createLink(adminTab, 'scim', 'second link');
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await page.goto(firstUrl);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { level: 1, name: /Set up SSO for Acme/ }).waitFor();
  const before = await setupCookie(page);
  expect(before).toBeDefined();
  // The same link again goes straight to the portal: nothing to confirm, nothing changed.
  await page.goto(firstUrl);
  await page.waitForURL(`${t.url}/admin/setup`);
  expect(await setupCookie(page)).toBe(before);

  await page.goto(secondUrl);
  await page.getByRole('heading', { level: 1, name: /Set up SCIM for Acme .*\?/ }).waitFor();
  await page.getByText(/^You are setting up SSO for Acme .*; continuing switches to SCIM for Acme /).waitFor();
  await checkPage(page, 'setup-portal-interstitial-switch');
  expect(await setupCookie(page)).toBe(before);
  // Leaving without Continue: still the first link's portal.
  await page.goto(`${t.url}/admin/setup`);
  await page.getByRole('heading', { level: 1, name: /Set up SSO for Acme/ }).waitFor();
  expect(await setupCookie(page)).toBe(before);

  await page.goto(secondUrl);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { level: 1, name: /Set up SCIM for Acme/ }).waitFor();
  expect(await setupCookie(page)).not.toBe(before);
  await page.context().close();
  await adminTab.context().close();
});
