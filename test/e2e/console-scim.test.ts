import type { Browser } from 'playwright-core';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, signInAs } from '../helpers/chromium.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { scimClient } from '../helpers/scim.ts';
import { createMember, testPassword } from '../helpers/sign-in.ts';

// SCIM directories in a real browser: create one, take the once-shown token, push people and a
// group with it as an IdP would, see them in the console, add a group → role rule.

let t: TestApp;
let browser: Browser;
let org: TestOrg;
let admin: { id: string; email: string };

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  browser = await launchChromium();
  org = await createOrg(t, `Scim ${Date.now()}`);
  admin = await createMember(t, [[org, 'admin']], 'scim-admin');
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const user = (userName: string, given: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, active: true,
  name: { givenName: given, familyName: 'Pushed' }, emails: [{ value: userName, primary: true, type: 'work' }],
});

test('a directory made in the console, fed over SCIM with its once-shown token, shows its users and groups and takes a rule', async () => {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/directories`);
  await signInAs(page, { email: admin.email, password: testPassword });
  await checkPage(page, 'directories-empty');
  await page.getByLabel('Name', { exact: true }).fill('Okta');
  await page.getByLabel('Default role').selectOption('viewer');
  await page.getByRole('button', { name: 'Create directory' }).click();
  const token = await page.getByLabel('Bearer token').inputValue();
  const baseUrl = (await page.locator('dl.values dd').first().textContent())!;
  expect(baseUrl).toMatch(new RegExp(`^${t.url}/scim/v2/[0-9a-f-]{36}$`));
  await checkPage(page, 'directories-token-once');
  // The token is on no other page.
  await page.getByRole('link', { name: /open the directory/ }).click();
  expect(await page.content()).not.toContain(token);

  const scim = scimClient(baseUrl, token);
  const ada = await scim('POST', '/Users', user(`ada-${Date.now()}@scim.example.test`, 'Ada'));
  const bob = await scim('POST', '/Users', user(`bob-${Date.now()}@scim.example.test`, 'Bob'));
  expect([ada.status, bob.status]).toEqual([201, 201]);
  const group = await scim('POST', '/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: [{ value: ada.body.id }, { value: bob.body.id }],
  });
  expect(group.status).toBe(201);

  await page.reload();
  await page.getByRole('cell', { name: ada.body.userName }).first().waitFor();
  await page.getByRole('cell', { name: bob.body.userName }).first().waitFor();
  await page.getByRole('cell', { name: 'Engineering' }).first().waitFor();
  expect(await page.getByText('Nothing pushed yet').count()).toBe(0);
  await checkPage(page, 'directory-provisioned');
  await page.getByLabel('Group', { exact: true }).selectOption({ label: 'Engineering' });
  await page.getByLabel('Role for its members').selectOption('admin');
  await page.getByRole('button', { name: 'Add rule' }).click();
  await page.getByRole('status').filter({ hasText: 'The rule was added' }).waitFor();
  await page.getByRole('button', { name: 'Remove the rule for Engineering' }).waitFor();
  const members = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/members?limit=200`);
  const ruled = members.body.data.filter((m: { email: string; role: string }) => [ada.body.userName, bob.body.userName].includes(m.email));
  expect(ruled.map((m: { role: string }) => m.role)).toEqual(['admin', 'admin']);
  await checkPage(page, 'directory-rule-added');
  await page.context().close();
});
