import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { client, startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, overflowsSideways, signInAs } from '../helpers/chromium.ts';
import { createOrgWithOwner } from '../helpers/console-org.ts';
import type { TestOrg } from '../helpers/factories.ts';
import { createMember, testPassword } from '../helpers/sign-in.ts';

// The console's API keys, workspaces and audit pages in a real browser, against an app with
// billing off (every org on the self-hosted plan). Each page acts through the management API.

let t: TestApp;
let browser: Browser;
let org: TestOrg;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  browser = await launchChromium();
  org = await createOrgWithOwner(t, `Keys ${Date.now()}`);
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function signedIn(email: string, path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/${path}`);
  await signInAs(page, { email, password: testPassword });
  await page.waitForURL(`${t.url}/admin/orgs/${org.orgId}/${path}`);
  return page;
}

/** Accepts the console's confirm() and returns its text. */
function acceptConfirm(page: Page): Promise<string> {
  return new Promise((resolve) => page.once('dialog', (d) => { resolve(d.message()); void d.accept(); }));
}

async function createKey(page: Page, name: string, role?: string): Promise<string> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  if (role) await page.getByLabel('Role').selectOption(role);
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('heading', { level: 1, name: 'API key created' }).waitFor();
  return page.getByLabel(`Secret of ${name}`).inputValue();
}

/** The API's answer to the key (revocation reaches the key cache through NOTIFY: wait for it). */
async function statusWith(key: string, want: number): Promise<number> {
  let status = 0;
  for (let i = 0; i < 40 && status !== want; i += 1) {
    status = (await client(t.url, key)('GET', `/api/v1/orgs/${org.orgId}`)).status;
    if (status !== want) await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

test('an owner creates a key, sees its secret once, uses it, and revokes it', async () => {
  const page = await signedIn(org.owner.email, 'api-keys');
  await checkPage(page, 'api-keys');
  const secret = await createKey(page, 'CI deploys', 'admin');
  expect(secret).toMatch(/^gh_[0-9a-f]{16}_/);
  await checkPage(page, 'api-keys-created');
  expect(await statusWith(secret, 200)).toBe(200);

  // Back on the list (and on any later page) the secret is nowhere.
  await page.getByRole('link', { name: 'Back to API keys' }).click();
  const row = page.getByRole('row').filter({ hasText: 'CI deploys' });
  await row.waitFor();
  expect(await page.content()).not.toContain(secret);
  expect(await row.textContent()).toContain('Active');

  const confirmed = acceptConfirm(page);
  await page.getByRole('button', { name: 'Revoke CI deploys' }).click();
  expect(await confirmed).toContain('stops working at once');
  await page.getByRole('status').filter({ hasText: 'The API key "CI deploys" was revoked.' }).waitFor();
  expect(await row.textContent()).toContain('Revoked');
  await checkPage(page, 'api-keys-revoked');
  expect(await statusWith(secret, 401)).toBe(401);
  await page.context().close();
});

test('rotating with no grace shows the new secret once; the old one stops working', async () => {
  const page = await signedIn(org.owner.email, 'api-keys');
  const first = await createKey(page, 'Nightly job');
  await page.getByRole('link', { name: 'Back to API keys' }).click();
  await page.getByLabel('Grace period for the old secret of Nightly job').selectOption('0');
  await page.getByRole('button', { name: 'Rotate Nightly job' }).click();
  await page.getByRole('heading', { level: 1, name: 'API key rotated' }).waitFor();
  const second = await page.getByLabel('Secret of Nightly job').inputValue();
  expect(second).not.toBe(first);
  expect(second.slice(0, 20)).toBe(first.slice(0, 20)); // the same key id
  await checkPage(page, 'api-keys-rotated');
  expect(await statusWith(second, 200)).toBe(200);
  expect(await statusWith(first, 401)).toBe(401);
  await page.context().close();
});

test('an expiry date in the past is refused with a message and creates no key', async () => {
  const page = await signedIn(org.owner.email, 'api-keys');
  const before = (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/api-keys?limit=100`)).body.data.length;
  await page.getByLabel('Name', { exact: true }).fill('Too late');
  await page.getByLabel('Expires on (optional)').fill('2020-01-01');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('alert').filter({ hasText: 'The expiry date must be in the future.' }).waitFor();
  expect(page.url()).toBe(`${t.url}/admin/orgs/${org.orgId}/api-keys`);
  await checkPage(page, 'api-keys-refused');
  expect((await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/api-keys?limit=100`)).body.data.length).toBe(before);
  await page.context().close();
});

test('a member sees only their own keys, roles within their own, and no audit, billing or workspace changes', async () => {
  const member = await createMember(t, [[org, 'member']], 'member');
  await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'Owner only key', role: 'owner' });
  const page = await signedIn(member.email, 'api-keys');
  const nav = page.getByRole('navigation', { name: 'Console' });
  expect(await nav.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
  expect(await nav.getByRole('link', { name: 'Billing' }).count()).toBe(0);
  const roles = await page.getByLabel('Role').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(roles.sort()).toEqual(['member', 'viewer']);

  await createKey(page, 'My laptop');
  await page.getByRole('link', { name: 'Back to API keys' }).click();
  await page.getByRole('table', { name: 'Your API keys' }).waitFor();
  expect(await page.getByRole('row').filter({ hasText: 'My laptop' }).count()).toBe(1);
  expect(await page.getByText('Owner only key').count()).toBe(0);
  expect(await page.getByRole('columnheader', { name: 'Created by' }).count()).toBe(0);
  await checkPage(page, 'api-keys-member');

  await page.goto(`${t.url}/admin/orgs/${org.orgId}/workspaces`);
  expect(await page.getByRole('button', { name: /Create workspace|Delete|Rename/ }).count()).toBe(0);
  await checkPage(page, 'workspaces-member');
  const audit = await page.goto(`${t.url}/admin/orgs/${org.orgId}/audit`);
  expect(audit?.status()).toBe(403);
  await page.context().close();
});

test('the audit page shows the key events, the chain intact, filters, and exports', async () => {
  const page = await signedIn(org.owner.email, 'audit');
  await page.getByRole('status').filter({ hasText: /Audit chain intact: \d+ events checked/ }).waitFor();
  await page.getByRole('cell', { name: 'api_key.created' }).first().waitFor();
  await checkPage(page, 'audit');

  await page.getByLabel('Event type').fill('api_key.revoked');
  await page.getByRole('button', { name: 'Show events' }).click();
  await page.waitForURL(/type=api_key.revoked/);
  const types = await page.locator('tbody tr td:nth-child(2)').allTextContents();
  expect(types.length).toBeGreaterThan(0);
  expect(new Set(types)).toEqual(new Set(['api_key.revoked']));
  await checkPage(page, 'audit-filtered');

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.csv$/);
  const csv = readFileSync(await file.path(), 'utf8');
  expect(csv.split('\r\n')[0]).toMatch(/^id,seq,type,/);
  expect(csv).toContain('api_key.revoked');
  expect(csv).not.toContain('api_key.created');

  await page.getByLabel('From (UTC date)').fill('2030-01-02');
  await page.getByLabel('To (UTC date, included)').fill('2030-01-01');
  await page.getByRole('button', { name: 'Show events' }).click();
  await page.getByRole('alert').filter({ hasText: 'These filters do not work' }).waitFor();
  await checkPage(page, 'audit-bad-filter');
  await page.context().close();
});

test('workspaces: create, rename, and delete after a confirm that names the bound keys', async () => {
  const page = await signedIn(org.owner.email, 'workspaces');
  await page.getByLabel('Name', { exact: true }).fill('Staging');
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.getByRole('status').filter({ hasText: 'The workspace "Staging" was created.' }).waitFor();
  await checkPage(page, 'workspaces');

  await page.getByLabel('New name for Staging').fill('Staging EU');
  await page.getByRole('button', { name: 'Rename Staging' }).click();
  await page.getByRole('status').filter({ hasText: 'The workspace is now named "Staging EU".' }).waitFor();

  const [space] = (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/workspaces`)).body.data.filter((w: { name: string }) => w.name === 'Staging EU');
  const bound = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'EU key', role: 'member', workspaceId: space.id });
  expect(bound.status).toBe(201);
  const confirmed = acceptConfirm(page);
  await page.getByRole('button', { name: 'Delete Staging EU' }).click();
  expect(await confirmed).toMatch(/API keys .* bound to it are revoked/);
  await page.getByRole('status').filter({ hasText: 'The workspace was deleted' }).waitFor();
  expect(await page.getByLabel('New name for Staging EU').count()).toBe(0);
  expect(await statusWith(bound.body.key, 401)).toBe(401);
  await page.context().close();
});

test('at phone width the API keys page does not scroll sideways', async () => {
  const page = await signedIn(org.owner.email, 'api-keys', { width: 390, height: 844 });
  await checkPage(page, 'api-keys-phone');
  expect(await overflowsSideways(page)).toBe(false);
  await page.context().close();
});
