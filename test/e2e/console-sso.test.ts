import type { Browser, Page } from 'playwright-core';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, overflowsSideways, signInAs } from '../helpers/chromium.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { testCertificate } from '../helpers/idp-metadata.ts';
import { startBrowserIdp, type BrowserIdp } from '../helpers/saml-browser-idp.ts';
import { createMember, testPassword } from '../helpers/sign-in.ts';
import { samlConnection } from '../helpers/sso.ts';

// The SSO setup wizard in a real browser against a loopback SAML IdP, to a successful test
// connection that reports the attributes, groups and mapped role; domains; certificate warnings.

let t: TestApp;
let browser: Browser;
let org: TestOrg;
let admin: { id: string; email: string };
let idp: BrowserIdp;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  browser = await launchChromium();
  org = await createOrg(t, `Wizard ${Date.now()}`);
  admin = await createMember(t, [[org, 'admin']], 'sso-admin');
  idp = await startBrowserIdp({ email: 'tess@corp.example.test', givenName: 'Tess', familyName: 'Tester', groups: ['Everyone', 'Admins'] });
});

afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await t?.close();
});

async function signedIn(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/sso`);
  await signInAs(page, { email: admin.email, password: testPassword });
  return page;
}

test('the SAML wizard runs to a successful test connection showing the attributes, groups and mapped role', async () => {
  const page = await signedIn();
  await page.getByRole('heading', { level: 1, name: 'Single sign-on' }).waitFor();
  await checkPage(page, 'sso-list-empty');
  await page.getByRole('link', { name: 'Set up a connection' }).click();
  await checkPage(page, 'sso-wizard-1-idp');
  await page.getByRole('radio', { name: 'Okta' }).check();
  await page.getByLabel('Connection name').fill('Acme Okta');
  await page.getByRole('button', { name: 'Continue' }).click();
  const acsUrl = await page.getByLabel(/^ACS URL/).inputValue();
  expect(acsUrl).toMatch(new RegExp(`^${t.url}/sso/saml/[0-9a-f-]{36}/acs$`));
  expect(await page.getByRole('cell', { name: 'firstName, FirstName' }).count()).toBe(1);
  await checkPage(page, 'sso-wizard-2-values');
  await page.getByRole('link', { name: 'Continue to step 3' }).click();
  await page.getByLabel('IdP metadata XML').fill(idp.metadataXml);
  await checkPage(page, 'sso-wizard-3-metadata');
  await page.getByRole('button', { name: 'Save connection' }).click();
  await page.getByRole('status').filter({ hasText: 'The connection was saved' }).waitFor();
  await checkPage(page, 'sso-wizard-4-test');
  const connectionId = /\/sso\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
  expect(acsUrl).toBe(`${t.url}/sso/saml/${connectionId}/acs`);
  // What the admin would set next: a group rule; and the IdP learns the SP certificate from the metadata.
  const connection = await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/connections/${connectionId}`, { roleRules: [{ group: 'Admins', role: 'admin' }] });
  idp.spCertificate = connection.body.sp.certificate;

  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByRole('button', { name: 'Continue to the service' }).click();
  await page.waitForURL(/\/test-result\?test=/);
  await page.getByText('The connection works. tess@corp.example.test would sign in as admin.').waitFor();
  expect(await page.getByText('Everyone, Admins').first().isVisible()).toBe(true);
  expect(await page.getByText('(rule for the group Admins)').isVisible()).toBe(true);
  expect(await page.getByRole('cell', { name: 'firstName' }).count()).toBe(1);
  await checkPage(page, 'sso-test-result');
  // Nobody was signed in or provisioned.
  const users = await t.db.withoutOrg((em) => em.execute(`SELECT 1 FROM users WHERE email = 'tess@corp.example.test'`));
  expect(users).toHaveLength(0);
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/sso`);
  await page.getByRole('link', { name: 'Acme Okta' }).waitFor();
  await checkPage(page, 'sso-list');
  await page.context().close();
});

test('a certificate ending within 30 days shows a warning in the list', async () => {
  await samlConnection(t, org.orgId, { idpEntityId: 'https://soon.example.test', ssoUrl: 'https://soon.example.test/sso', certificates: [testCertificate('Soon', 10)] }, { name: 'Expiring IdP' });
  const page = await signedIn();
  const warning = page.getByRole('status').filter({ hasText: /Expires .* rotate it at the IdP/ });
  await warning.waitFor();
  expect(await warning.getAttribute('class')).toBe('warning');
  await checkPage(page, 'sso-list-warning');
  await page.context().close();
});

test('domains: claim one, see the TXT record, verify now reports the missing record', async () => {
  const page = await signedIn();
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/domains`);
  await checkPage(page, 'domains-empty');
  const domain = `wizard-${Date.now()}.example.test`;
  await page.getByLabel('Domain', { exact: true }).fill(domain);
  await page.getByRole('button', { name: 'Claim domain' }).click();
  await page.getByRole('status').filter({ hasText: `${domain} is claimed` }).waitFor();
  const claimed = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/domains`);
  const record = claimed.body.data[0].txtRecord;
  expect(await page.getByLabel(`Record name (host) for ${domain}`, { exact: true }).inputValue()).toBe(record.name);
  expect(await page.getByLabel(`Record value for ${domain}`, { exact: true }).inputValue()).toBe(record.value);
  await checkPage(page, 'domains-claimed');
  await page.getByRole('button', { name: `Verify now: ${domain}` }).click();
  await page.getByRole('alert').waitFor();
  await checkPage(page, 'domains-verify-failed');
  await page.context().close();
});

test('at phone width the wizard\'s values page does not scroll sideways', async () => {
  const page = await signedIn({ width: 390, height: 844 });
  await page.goto(`${t.url}/admin/orgs/${org.orgId}/sso/new/values?idp=entra&name=Entra`);
  await page.getByLabel(/^ACS URL/).waitFor();
  expect(await overflowsSideways(page)).toBe(false);
  await checkPage(page, 'sso-wizard-2-values-phone');
  await page.context().close();
});
