import type { Browser, Page } from 'playwright-core';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, overflowsSideways, signInAs } from '../helpers/chromium.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { busyOrg, platformKey, type BusyOrg } from '../helpers/platform-fixture.ts';
import { testPassword } from '../helpers/sign-in.ts';

// The platform operators' view (issue 8 item 5) in a real browser: signed in with a platform API
// key, it lists every org's plan, counts and health, and never an org's secrets or people.
// Billing is on (Stripe at a closed port: nothing is called), so the two orgs' plans differ.
let t: TestApp;
let browser: Browser;
let key: string;
let busy: BusyOrg;
let quiet: TestOrg;
let suffix: string;

beforeAll(async () => {
  t = await startAppAtPublicUrl({ STRIPE_SECRET_KEY: 'sk_test_platform', STRIPE_WEBHOOK_SECRET: 'whsec_platform', STRIPE_API_BASE: 'http://127.0.0.1:9' });
  browser = await launchChromium();
  key = await platformKey(t);
  busy = await busyOrg(t, 'Busyco');
  suffix = busy.name.split(' ').at(-1)!;
  quiet = await createOrg(t, `Quietco ${suffix}`);
  await forgetWrongKeys();
});

/** The loopback address's wrong-key count is shared by runs on one database: each run starts clean. */
function forgetWrongKeys() {
  return t.db.withoutOrg((em) => em.execute(`DELETE FROM sign_in_attempts WHERE key LIKE 'platform-console:%'`));
}

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  return (await browser.newContext({ viewport })).newPage();
}

async function signInWithKey(page: Page, value: string) {
  await page.goto(`${t.url}/admin/platform`);
  await page.waitForURL(`${t.url}/admin/platform/sign-in`);
  await page.getByLabel('Platform API key').fill(value);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${t.url}/admin/platform/sign-in` && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  return res;
}

function row(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

test('an operator signs in with a platform key and sees both orgs with their plans, counts and health, and none of their secrets', async () => {
  const page = await newPage();
  await page.goto(`${t.url}/admin/platform/sign-in`);
  expect(await page.getByLabel('Platform API key').getAttribute('type')).toBe('password');
  expect(await page.getByLabel('Platform API key').getAttribute('autocomplete')).toBe('off');
  await checkPage(page, 'platform-sign-in');
  await signInWithKey(page, key);
  await page.waitForURL(`${t.url}/admin/platform`);
  await page.getByRole('heading', { level: 1, name: 'Organizations' }).waitFor();
  expect(await page.locator('header .role').textContent()).toBe('Platform operator');
  expect(await page.locator('#org-switch').count()).toBe(0); // no org switcher
  await page.getByLabel('Name or slug').fill(suffix);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=/);
  const busyCells = await row(page, busy.name).getByRole('cell').allTextContents();
  expect(busyCells.slice(1, 4)).toEqual([expect.stringMatching(/^enterprise/), '3', '1']);
  expect(busyCells[4]).toMatch(/2 connections \(1 turned off\)IdP certificate expires in (9|10) days/);
  expect(busyCells[5]).toMatch(/1 directoryLast sync \d{4}-/);
  const quietCells = await row(page, `Quietco ${suffix}`).getByRole('cell').allTextContents();
  expect(quietCells.slice(1, 6)).toEqual(['freeNo subscription', '1', '0', 'None', 'None']);
  const text = await page.content();
  for (const [what, secret] of Object.entries(busy.secrets)) expect({ what, shown: text.includes(secret) }).toEqual({ what, shown: false });
  expect(text).not.toContain(quiet.owner.email);
  await checkPage(page, 'platform-orgs');
  await page.context().close();
});

test('the search narrows the list to one org by name or slug; at phone width nothing overflows', async () => {
  const page = await newPage({ width: 390, height: 844 });
  await signInWithKey(page, key);
  await page.getByLabel('Name or slug').fill(quiet.slug);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=/);
  expect(await page.getByRole('row').count()).toBe(2); // the head and one org
  await row(page, `Quietco ${suffix}`).waitFor();
  expect(await overflowsSideways(page)).toBe(false);
  await checkPage(page, 'platform-orgs-search-phone');
  await page.goto(`${t.url}/admin/platform?q=${encodeURIComponent(`nothing-${suffix}`)}`);
  await page.getByText('No organization matches.').waitFor();
  await checkPage(page, 'platform-orgs-no-match');
  await page.context().close();
});

test('a wrong key shows the form again with an error (401) and stores nothing', async () => {
  const page = await newPage();
  for (const wrong of [`${key.slice(0, -4)}0000`, busy.org.owner.key]) {
    const res = await signInWithKey(page, wrong);
    expect(res.status()).toBe(401);
    await page.getByRole('alert').filter({ hasText: 'That is not an active platform API key.' }).waitFor();
  }
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain('gh_console_platform');
  await checkPage(page, 'platform-sign-in-wrong-key');
  await page.goto(`${t.url}/admin/platform`);
  await page.waitForURL(`${t.url}/admin/platform/sign-in`);
  await page.context().close();
});

test('an org member\'s console session opens nothing under /admin/platform', async () => {
  const page = await newPage();
  await page.goto(`${t.url}/admin`);
  await signInAs(page, { email: busy.member.email, password: testPassword }); // one org: no picker
  expect((await page.context().cookies()).map((c) => c.name)).toContain('gh_console');
  await page.goto(`${t.url}/admin/platform`);
  await page.waitForURL(`${t.url}/admin/platform/sign-in`);
  expect(await page.content()).not.toContain(busy.name);
  await page.context().close();
});

test('signing out clears the key: the list asks for it again', async () => {
  const page = await newPage();
  await signInWithKey(page, key);
  await page.waitForURL(`${t.url}/admin/platform`);
  const cookie = (await page.context().cookies()).find((c) => c.name === 'gh_console_platform');
  expect(cookie).toMatchObject({ path: '/admin/platform', httpOnly: true, sameSite: 'Lax' });
  expect(cookie!.expires * 1000 - Date.now()).toBeLessThanOrEqual(8 * 3600 * 1000 + 60_000);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${t.url}/admin/platform/sign-in`);
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain('gh_console_platform');
  await page.goto(`${t.url}/admin/platform`);
  await page.waitForURL(`${t.url}/admin/platform/sign-in`);
  await page.context().close();
});

// Last in the file: it uses up this address's wrong-key allowance.
test('after 5 wrong keys from one address wrong keys get 429, even sent at once, and a right key still signs in', async () => {
  const post = (value: string) => fetch(`${t.url}/admin/platform/sign-in`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key: value }).toString(),
  });
  // Sent together: counting is one statement, so no more than 5 are answered as plain wrong keys.
  const answers = (await Promise.all(Array.from({ length: 8 }, (_, i) => post(`wrong-${i}`)))).map((r) => r.status);
  expect(answers.filter((s) => s === 401).length).toBe(5);
  expect(answers.filter((s) => s === 429).length).toBe(3);
  const refused = await post('wrong-again');
  expect(refused.status).toBe(429);
  expect(refused.headers.get('set-cookie') ?? '').not.toContain('gh_console_platform');
  // Anyone behind the same address can post wrong keys; the operator's right key still works.
  const right = await post(key);
  expect(right.status).toBe(303);
  expect(right.headers.get('location')).toBe('/admin/platform');
  expect(right.headers.get('set-cookie') ?? '').toContain('gh_console_platform=');
  await forgetWrongKeys();
});
