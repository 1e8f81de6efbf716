import * as oidc from 'openid-client';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { finishAtProduct, personAt, postToAcs, redeem, samlSetup, startSamlLogin } from '../helpers/saml-flow.ts';
import { samlResponse } from '../helpers/saml-idp-response.ts';
import { createMember, redirectUri, relyingParty, signIn } from '../helpers/sign-in.ts';
import { createOrg } from '../helpers/factories.ts';
import { readRedirectRequest } from '../helpers/saml-idp.ts';

// Sign-in through a SAML connection end to end: the product (openid-client) → Gatehouse's hosted
// login → the test IdP (xml-crypto, node:crypto; not node-saml) → the ACS → an org-scoped ID token.

let t: TestApp;
let rp: oidc.Configuration;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  ({ rp } = await relyingParty(t));
});
afterAll(() => t.close());

async function identities(connectionId: string): Promise<Array<{ subject: string; email: string }>> {
  return t.db.withoutOrg((em) => em.execute('SELECT subject, email FROM user_identities WHERE connection_id = ?', [connectionId]));
}

test('Okta-shaped response (Response and Assertion signed) over the HTTP-Redirect binding', async () => {
  const setup = await samlSetup(t, {}, { preset: 'okta' });
  const email = personAt(setup);
  const { signedIn, request } = await startSamlLogin(t, rp, setup, email);
  expect(request).toMatchObject({ signed: true, acsUrl: setup.sp.acsUrl, issuer: setup.sp.entityId, destination: setup.idp.ssoUrl });
  const response = samlResponse(setup.idp, setup.sp, { email, givenName: 'Olga', familyName: 'Okta', groups: ['Everyone', 'Engineering'] }, { shape: 'okta', inResponseTo: request.id });
  const claims = await finishAtProduct(t, rp, signedIn, await postToAcs(signedIn.agent, setup, response.base64));
  expect(claims).toMatchObject({ org_id: setup.org.orgId, email });
  expect(await identities(setup.connection.id)).toEqual([{ subject: email, email }]);
});

test('Entra-shaped response (assertion-only signature, claim URIs, groups) over the HTTP-POST binding', async () => {
  const setup = await samlSetup(t, { ssoBinding: 'post' }, { preset: 'entra' });
  const email = personAt(setup);
  const { signedIn, request } = await startSamlLogin(t, rp, setup, email);
  expect(request.signed).toBe(true);
  const person = { email, objectId: '5b2f1c9e-2222-4222-8222-222222222222', groups: ['a1b2c3d4-0000-4000-8000-00000000000a'] };
  const response = samlResponse(setup.idp, setup.sp, person, { shape: 'entra', inResponseTo: request.id });
  const claims = await finishAtProduct(t, rp, signedIn, await postToAcs(signedIn.agent, setup, response.base64));
  expect(claims.org_id).toBe(setup.org.orgId);
  expect(await identities(setup.connection.id)).toEqual([{ subject: person.objectId, email }]);
});

test('the HTTP-POST binding page auto-submits under a nonce CSP that only allows posting to the IdP', async () => {
  const setup = await samlSetup(t, { ssoBinding: 'post' });
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256', login_hint: personAt(setup),
  });
  // A browser's redirects, by hand, to keep the last answer's headers.
  let res = await fetch(url, { redirect: 'manual' });
  const cookies = new Map<string, string>();
  while (res.status === 303 || res.status === 302) {
    for (const line of res.headers.getSetCookie()) cookies.set(line.split('=')[0]!, line.split(';')[0]!);
    res = await fetch(new URL(res.headers.get('location')!, res.url || url), { redirect: 'manual', headers: { cookie: [...cookies.values()].join('; ') } });
  }
  const html = await res.text();
  expect(res.status).toBe(200);
  const nonce = /<script nonce="([^"]+)">document\.forms\[0\]\.submit\(\);<\/script>/.exec(html)?.[1];
  expect(nonce).toBeTruthy();
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toContain(`script-src 'nonce-${nonce}'`);
  expect(csp).toContain(`form-action ${new URL(setup.idp.ssoUrl).origin}`);
  expect(csp).not.toContain("form-action 'self'");
  expect(html).toContain(`action="${setup.idp.ssoUrl}"`);
  expect(html).toContain('<button type="submit">Continue</button>');
});

test('encrypted assertion (AES-256-CBC, RSA-OAEP key transport) on a connection that requires encryption', async () => {
  const setup = await samlSetup(t, { requireEncryptedAssertions: true }, { preset: 'okta' });
  const email = personAt(setup);
  const { signedIn, request } = await startSamlLogin(t, rp, setup, email);
  const response = samlResponse(setup.idp, setup.sp, { email }, { shape: 'okta', inResponseTo: request.id, encrypt: 'aes256-cbc' });
  expect(response.xml).toContain('EncryptedAssertion');
  expect(response.xml).not.toContain(email);
  const claims = await finishAtProduct(t, rp, signedIn, await postToAcs(signedIn.agent, setup, response.base64));
  expect(claims.org_id).toBe(setup.org.orgId);
});

test('encrypted Entra-shaped assertion (AES-128-GCM; the signature is inside the encryption)', async () => {
  const setup = await samlSetup(t, {}, { preset: 'entra' });
  const email = personAt(setup);
  const { signedIn, request } = await startSamlLogin(t, rp, setup, email);
  const response = samlResponse(setup.idp, setup.sp, { email }, { shape: 'entra', inResponseTo: request.id, encrypt: 'aes128-gcm' });
  const claims = await finishAtProduct(t, rp, signedIn, await postToAcs(signedIn.agent, setup, response.base64));
  expect(claims.org_id).toBe(setup.org.orgId);
});

test('IdP-initiated login: the ACS sends the browser to the product, whose authorization request signs in', async () => {
  const loginUrl = 'https://app.example.test/login';
  const setup = await samlSetup(t, { allowIdpInitiated: true, idpInitiatedLoginUrl: loginUrl }, { preset: 'okta' });
  const email = personAt(setup);
  const agent = new FormAgent();
  const response = samlResponse(setup.idp, setup.sp, { email }, { shape: 'okta' });
  const acs = await postToAcs(agent, setup, response.base64);
  expect(acs.status).toBe(303);
  expect(acs.location).toBe(loginUrl);
  // The product's login URL starts a normal authorization request in the same browser, which
  // asks the person to continue as the IdP's identity before signing anyone in (login CSRF).
  const started = await signIn(t, rp, {}, { email: '', password: '' }, undefined, agent);
  expect(started.page.status).toBe(200);
  expect(started.page.html).toContain(`as <strong>${email}</strong>`);
  const confirm = readForm(started.page.html, started.page.url);
  const forged = await agent.request(confirm.action, { form: { csrf: 'forged' } });
  expect(forged.status).toBe(403);
  const accepted = await agent.request(confirm.action, { form: confirm.fields });
  const back = await agent.follow(accepted.location!, t.url);
  expect(back.location?.startsWith(redirectUri)).toBe(true);
  const claims = await redeem(rp, started, back.location!);
  expect(claims).toMatchObject({ org_id: setup.org.orgId, email });
});

test('IdP-initiated login declined at the confirmation: nobody is signed in, the ticket is gone, the email step is shown', async () => {
  const setup = await samlSetup(t, { allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.test/login' }, { preset: 'okta' });
  const email = personAt(setup);
  const agent = new FormAgent();
  await postToAcs(agent, setup, samlResponse(setup.idp, setup.sp, { email }, { shape: 'okta' }).base64);
  const started = await signIn(t, rp, {}, { email: '', password: '' }, undefined, agent);
  const confirm = readForm(started.page.html, started.page.url);
  const declined = await agent.request(confirm.action, { form: { ...confirm.fields, decline: '1' } });
  expect(declined.status).toBe(303);
  const page = await agent.follow(declined.location!, t.url);
  expect(page.html).toContain('name="email"');
  const users = await t.db.withoutOrg((em) => em.execute('SELECT 1 FROM users WHERE email = ?', [email]));
  expect(users).toEqual([]);
});

test('SP metadata names the entity, the ACS (HTTP-POST) and the SP certificate for signing and encryption', async () => {
  const setup = await samlSetup(t);
  const res = await fetch(setup.sp.entityId);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
  const xml = await res.text();
  const cert = setup.sp.certificatePem.replace(/-----[^-]+-----|\s/g, '');
  expect(xml).toContain(`entityID="${setup.sp.entityId}"`);
  expect(xml).toMatch(/AuthnRequestsSigned="true"/);
  expect(xml).toMatch(/WantAssertionsSigned="true"/);
  expect(xml).toContain(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${setup.sp.acsUrl}"`);
  expect(xml).toMatch(/<KeyDescriptor use="signing">/);
  expect(xml).toMatch(/<KeyDescriptor use="encryption">/);
  expect(xml.replace(/\s/g, '').split(cert).length - 1).toBe(2);
  expect(xml).not.toContain('PRIVATE');
});

test('takeover refused end to end: an org\'s IdP asserting the address of someone else\'s account signs in an org-managed account, not that person', async () => {
  const victimOrg = await createOrg(t);
  const victim = await createMember(t, [[victimOrg, 'admin']], 'victim');
  const attacker = await samlSetup(t, {}, { preset: 'okta', defaultRole: 'admin' });
  // The attacker's IdP is reached through its connection's start URL (the victim's domain is not the attacker's).
  const verifier = oidc.randomPKCECodeVerifier();
  const [state, nonce] = [oidc.randomState(), oidc.randomNonce()];
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid email org', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
  const agent = new FormAgent();
  const first = await agent.follow(url.href, t.url);
  const uid = /\/interaction\/([^/?]+)/.exec(first.url)![1];
  const toIdp = await agent.request(`${t.url}/interaction/${uid}/sso/${attacker.connection.id}`);
  const request = readRedirectRequest(toIdp.location!, attacker.sp.certificatePem);
  const response = samlResponse(attacker.idp, attacker.sp, { email: victim.email, givenName: 'Not', familyName: 'Victim', groups: [] }, { shape: 'okta', inResponseTo: request.id });
  const claims = await finishAtProduct(t, rp, { page: first, verifier, state, nonce, agent }, await postToAcs(agent, attacker, response.base64));

  expect(claims.org_id).toBe(attacker.org.orgId);
  expect(claims.sub).not.toBe(victim.id);
  expect(claims.email_verified).toBe(false);
  const accounts = await t.db.withoutOrg((em) => em.execute<{ id: string; managed_by_org_id: string | null }[]>('SELECT id, managed_by_org_id FROM users WHERE email = ? ORDER BY created_at', [victim.email]));
  expect(accounts).toEqual([{ id: victim.id, managed_by_org_id: null }, { id: claims.sub, managed_by_org_id: attacker.org.orgId }]);
  const victimMemberships = await t.db.inOrg(attacker.org.orgId, (em) => em.execute('SELECT 1 FROM memberships WHERE user_id = ?', [victim.id]));
  expect(victimMemberships).toEqual([]);
  expect(await t.db.withoutOrg((em) => em.execute('SELECT 1 FROM user_identities WHERE user_id = ?', [victim.id]))).toEqual([]);
});
