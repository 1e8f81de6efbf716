import type { Browser, Page } from 'playwright-core';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, overflowsSideways, signInAs } from '../helpers/chromium.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createMember, testPassword } from '../helpers/sign-in.ts';

// The console in a real browser: sign in through Gatehouse's own issuer, switch org, change a
// role; what a role may not do is not offered to it.

let t: TestApp;
let browser: Browser;
let orgA: TestOrg;
let orgB: TestOrg;
let person: { id: string; email: string };

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  browser = await launchChromium();
  orgA = await createOrg(t, `Acme ${Date.now()}`);
  orgB = await createOrg(t, `Bolt ${Date.now()}`);
  person = await createMember(t, [[orgA, 'admin'], [orgB, 'viewer']], 'console');
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function signedIn(orgName: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${t.url}/admin`);
  await signInAs(page, { email: person.email, password: testPassword }, orgName);
  return page;
}

test('signing in lands on the members page of the chosen org, which passes axe', async () => {
  const page = await signedIn('Acme');
  await expect(page.getByRole('heading', { level: 1, name: 'Members' })).toBeTruthy();
  expect(page.url()).toBe(`${t.url}/admin/orgs/${orgA.orgId}/members`);
  await page.getByRole('cell', { name: new RegExp(orgA.owner.email) }).waitFor();
  await checkPage(page, 'members');
  await page.context().close();
});

test('the switcher moves to another org, where a viewer is offered no changes', async () => {
  const page = await signedIn('Acme');
  await page.getByLabel('Organization').selectOption(orgB.orgId);
  await page.getByRole('button', { name: 'Switch' }).click();
  await page.waitForURL(`${t.url}/admin/orgs/${orgB.orgId}/members`);
  expect(await page.locator('.role').textContent()).toContain('viewer of Bolt');
  expect(await page.getByRole('button', { name: 'Change role' }).count()).toBe(0);
  expect(await page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
  await checkPage(page, 'members-viewer');
  await page.context().close();
});

test('an admin changes a member\'s role, and the API sees the change', async () => {
  const member = await addMember(t, orgA.orgId, 'member');
  const page = await signedIn('Acme');
  await page.getByLabel(`Role of ${member.email}`).selectOption('viewer');
  await page.locator('form', { has: page.getByLabel(`Role of ${member.email}`) }).getByRole('button', { name: 'Change role' }).click();
  await page.getByRole('status').filter({ hasText: 'The role was changed.' }).waitFor();
  const members = await orgA.owner.api('GET', `/api/v1/orgs/${orgA.orgId}/members?limit=200`);
  expect(members.body.data.find((m: { userId: string }) => m.userId === member.userId).role).toBe('viewer');
  await checkPage(page, 'members-role-changed');
  await page.context().close();
});

test('an org the person is not a member of is a 404 page, and the session stays in its own org', async () => {
  const stranger = await createOrg(t);
  const page = await signedIn('Acme');
  const res = await page.goto(`${t.url}/admin/orgs/${stranger.orgId}/members`);
  expect(res?.status()).toBe(404);
  await page.goto(`${t.url}/admin`);
  await page.waitForURL(`${t.url}/admin/orgs/${orgA.orgId}/members`);
  await page.context().close();
});

test('a form posted without the session\'s CSRF token is refused and changes nothing', async () => {
  const member = await addMember(t, orgA.orgId, 'member');
  const page = await signedIn('Acme');
  const status = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'role=admin&csrf=forged' })).status,
    `${t.url}/admin/orgs/${orgA.orgId}/members/${member.userId}/role`);
  expect(status).toBe(403);
  const members = await orgA.owner.api('GET', `/api/v1/orgs/${orgA.orgId}/members?limit=200`);
  expect(members.body.data.find((m: { userId: string }) => m.userId === member.userId).role).toBe('member');
  await page.context().close();
});

test('the keyboard alone reaches the content and the controls, with a visible focus', async () => {
  const page = await signedIn('Acme');
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
  await page.keyboard.press('Enter');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  // the first control after main is focusable and shows an outline
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  expect(outline).not.toBe('none');
  await page.context().close();
});

test('at phone width the page does not scroll sideways', async () => {
  const page = await signedIn('Acme', { width: 390, height: 844 });
  expect(await overflowsSideways(page)).toBe(false);
  await checkPage(page, 'members-phone');
  await page.context().close();
});

test('signing out ends the console session', async () => {
  const page = await signedIn('Acme');
  await page.getByRole('button', { name: 'Sign out' }).click();
  // the issuer asks to confirm the end of its own session
  await page.getByRole('button', { name: /yes|sign out/i }).first().click();
  await page.waitForURL(`${t.url}/admin/signed-out`);
  await page.goto(`${t.url}/admin/orgs/${orgA.orgId}/members`);
  // no session: back to the hosted sign-in, asking for the email again
  await page.getByLabel('Email').waitFor();
  expect(page.url()).toContain('/interaction/');
  await page.context().close();
});
