import { createRemoteJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { SigningKeys } from '../../src/oidc/signing-keys.ts';
import { SignInThrottle } from '../../src/oidc/interactions/sign-in-throttle.ts';
import { hashPassword } from '../../src/modules/users/password.ts';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { redirectUri, relyingParty, signIn as signInThrough } from '../helpers/sign-in.ts';
import { createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';

// The authorization code flow with PKCE through the hosted sign-in, with openid-client as the
// relying party (an independent implementation) and forms posted as a browser would.
const password = 'correct horse battery staple';
let t: TestApp;
let orgA: TestOrg;
let orgB: TestOrg;
let user: { id: string; email: string };
let rp: oidc.Configuration;
let issuer: string;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  issuer = `${t.url}/oidc`;
  orgA = await createOrg(t);
  orgB = await createOrg(t);
  const passwordHash = await hashPassword(password);
  const email = uniqueEmail('person');
  const created = await t.db.withoutOrg((em) => new UsersRepository(em).create({ email, name: 'Pat Person', passwordHash }));
  user = { id: created.id, email };
  for (const [org, role] of [[orgA, 'admin'], [orgB, 'viewer']] as const) {
    await t.db.inOrg(org.orgId, (em) => new MembersRepository(em).create({ orgId: org.orgId, userId: user.id, role, source: 'invite' }));
  }
  ({ rp } = await relyingParty(t));
});
afterAll(() => t.close());

/** Starts an authorization request and signs in through the forms (org A when asked to pick). */
const signIn = (params: Record<string, string>, creds = { email: user.email, password }, pickOrg = orgA.orgId) => signInThrough(t, rp, params, creds, pickOrg);

test('code flow with PKCE: the ID token, userinfo and a JWT access token carry the chosen org', async () => {
  const resource = `${t.url}/api/v1`;
  const { page, verifier, state, nonce } = await signIn({ organization: orgA.slug, resource });
  expect(page.location).toMatch(/^https:\/\/rp\.example\.test\/callback\?/);
  const callback = new URL(page.location!);
  expect(callback.searchParams.get('iss')).toBe(issuer);
  const tokens = await oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, { resource });
  const claims = tokens.claims()!;
  expect(claims).toMatchObject({ sub: user.id, email: user.email, name: 'Pat Person', org_id: orgA.orgId, org_slug: orgA.slug, org_role: 'admin' });
  expect(claims.permissions).toEqual(expect.arrayContaining(['members:invite']));
  const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!));
  const access = await jwtVerify(tokens.access_token, jwks, { issuer, audience: resource });
  expect(access.payload).toMatchObject({ sub: user.id, org_id: orgA.orgId, org_role: 'admin' });
  expect(tokens.refresh_token).toEqual(expect.any(String));
});

test('a person in several orgs picks one; the tokens name it', async () => {
  const { page, verifier, state, nonce } = await signIn({}, undefined, orgB.orgId);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  expect(tokens.claims()).toMatchObject({ org_id: orgB.orgId, org_role: 'viewer' });
});

test('userinfo carries the org claims of the grant', async () => {
  const { page, verifier, state, nonce } = await signIn({ organization: orgB.orgId });
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  const info = await oidc.fetchUserInfo(rp, tokens.access_token, user.id);
  expect(info).toMatchObject({ sub: user.id, email: user.email, org_id: orgB.orgId, org_slug: orgB.slug });
});

test('login_hint pre-fills the email step', async () => {
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', login_hint: 'someone@example.test' });
  const page = await new FormAgent().follow(url.href, t.url);
  expect(readForm(page.html, page.url).fields.email).toBe('someone@example.test');
});

test('a wrong password and an unknown email get the same answer', async () => {
  const agent = new FormAgent();
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid', code_challenge: 'y'.repeat(43), code_challenge_method: 'S256' });
  const answers: string[] = [];
  for (const email of [user.email, 'nobody-here@example.test']) {
    let page = await agent.follow(url.href, t.url);
    let form = readForm(page.html, page.url);
    page = await agent.request(form.action, { form: { ...form.fields, email } });
    form = readForm(page.html, page.url);
    page = await agent.request(form.action, { form: { ...form.fields, password: 'wrong password!' } });
    expect(page.status).toBe(401);
    answers.push(page.html.replace(email, 'EMAIL').replace(/name="csrf" value="[^"]+"/, '').replace(/\/interaction\/[^/"]+/g, ''));
  }
  expect(answers[0]).toBe(answers[1]);
});

test('a form without the CSRF token is refused', async () => {
  const agent = new FormAgent();
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid', code_challenge: 'z'.repeat(43), code_challenge_method: 'S256' });
  const page = await agent.follow(url.href, t.url);
  const form = readForm(page.html, page.url);
  const res = await agent.request(form.action, { form: { email: user.email } });
  expect(res.status).toBe(403);
});

test('an organization the person is not in yields no code', async () => {
  const stranger = await createOrg(t);
  const { page } = await signIn({ organization: stranger.orgId });
  expect(page.status).toBe(403);
  expect(page.location).toBeNull();
});

test('the wrong PKCE verifier is invalid_grant, and a code is good once', async () => {
  const { page, verifier, state, nonce } = await signIn({ organization: orgA.orgId });
  const callback = new URL(page.location!);
  await expect(oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: state, expectedNonce: nonce }))
    .rejects.toMatchObject({ error: 'invalid_grant' });
  const again = await signIn({ organization: orgA.orgId });
  const cb2 = new URL(again.page.location!);
  await oidc.authorizationCodeGrant(rp, cb2, { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce });
  await expect(oidc.authorizationCodeGrant(rp, cb2, { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce }))
    .rejects.toMatchObject({ error: 'invalid_grant' });
  void verifier;
});

test('an unregistered redirect URI is refused before any sign-in', async () => {
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: 'https://evil.example.test/cb', scope: 'openid', code_challenge: 'q'.repeat(43), code_challenge_method: 'S256' });
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(400);
  expect(await res.text()).toMatch(/redirect_uri/);
});

test('an authorization request without PKCE is refused', async () => {
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid' });
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(303);
  expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
});

test('a member removed from org A: their org-A refresh token fails at once; their org-B tokens still work', async () => {
  // a second person, so the shared user's memberships stay as they are for the other tests
  const email = uniqueEmail('leaver');
  const leaver = await t.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: null, passwordHash: await hashPassword(password) }));
  for (const org of [orgA, orgB]) {
    await t.db.inOrg(org.orgId, (em) => new MembersRepository(em).create({ orgId: org.orgId, userId: leaver.id, role: 'member', source: 'invite' }));
  }
  const tokensFor = async (org: TestOrg) => {
    const { page, verifier, state, nonce } = await signIn({ organization: org.orgId }, { email, password });
    return oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  };
  const inA = await tokensFor(orgA);
  const inB = await tokensFor(orgB);
  expect((await oidc.refreshTokenGrant(rp, inA.refresh_token!)).claims()).toMatchObject({ org_id: orgA.orgId });

  expect((await orgA.owner.api('DELETE', `/api/v1/orgs/${orgA.orgId}/members/${leaver.id}`)).status).toBe(204);

  await expect(oidc.refreshTokenGrant(rp, inA.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  const stillB = await oidc.refreshTokenGrant(rp, inB.refresh_token!);
  expect(stillB.claims()).toMatchObject({ sub: leaver.id, org_id: orgB.orgId });
  const events = await t.db.inOrg(orgA.orgId, (em) => em.execute<{ type: string }[]>(
    `SELECT type FROM audit_events WHERE target_id = ? AND type = 'oidc.grants_revoked'`, [leaver.id]));
  expect(events).toHaveLength(1);
});

describe('the management API accepts Gatehouse access tokens for it', () => {
  const api = () => `${t.url}/api/v1`;
  async function apiToken(org: TestOrg): Promise<string> {
    const { page, verifier, state, nonce } = await signIn({ organization: org.orgId, resource: api() });
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, { resource: api() });
    return tokens.access_token;
  }
  const call = (token: string, path: string) => fetch(`${api()}${path}`, { headers: { authorization: `Bearer ${token}` } });

  test('a user\'s access token lists the members of its org, and only its org', async () => {
    const token = await apiToken(orgA);
    expect((await call(token, `/orgs/${orgA.orgId}/members`)).status).toBe(200);
    expect((await call(token, `/orgs/${orgB.orgId}/members`)).status).toBe(404);
  });

  /** A JWT signed with the issuer's own current ES256 key, as only Gatehouse could make it. */
  async function signedWithIssuerKey(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const keys = await new SigningKeys(t.db, t.app.services.secrets).jwks();
    const es = keys.keys.find((k) => k.alg === 'ES256')!;
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: es.kid, typ: 'at+jwt', ...header }).sign(await importJWK(es, 'ES256'));
  }

  test('an expired token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signedWithIssuerKey({ iss: issuer, aud: api(), sub: user.id, org_id: orgA.orgId, iat: now - 1200, exp: now - 600 });
    expect((await call(token, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
    // the same claims, unexpired, are accepted: only the expiry made the difference
    const fresh = await signedWithIssuerKey({ iss: issuer, aud: api(), sub: user.id, org_id: orgA.orgId, iat: now, exp: now + 600 });
    expect((await call(fresh, `/orgs/${orgA.orgId}/members`)).status).toBe(200);
  });

  test('a tampered token (payload changed after signing) is refused', async () => {
    const token = await apiToken(orgB);
    const [h, p, sig] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.org_id = orgA.orgId;
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    expect((await call(forged, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
  });

  test('an alg: none token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ iss: issuer, aud: api(), sub: user.id, org_id: orgA.orgId, iat: now, exp: now + 600 })}.`;
    expect((await call(none, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
    const noneWithSig = `${none}AAAA`;
    expect((await call(noneWithSig, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
  });

  test('a token for another audience, or an ID token, is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = await signedWithIssuerKey({ iss: issuer, aud: 'https://other.example.test/api', sub: user.id, org_id: orgA.orgId, iat: now, exp: now + 600 });
    expect((await call(other, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
    const idLike = await signedWithIssuerKey({ iss: issuer, aud: api(), sub: user.id, org_id: orgA.orgId, iat: now, exp: now + 600 }, { typ: 'JWT' });
    expect((await call(idLike, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
  });

  test('a removed member\'s unexpired token stops working at once', async () => {
    const email = uniqueEmail('gone');
    const gone = await t.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: null, passwordHash: await hashPassword(password) }));
    await t.db.inOrg(orgA.orgId, (em) => new MembersRepository(em).create({ orgId: orgA.orgId, userId: gone.id, role: 'admin', source: 'invite' }));
    const { page, verifier, state, nonce } = await signIn({ organization: orgA.orgId, resource: api() }, { email, password });
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, { resource: api() });
    expect((await call(tokens.access_token, `/orgs/${orgA.orgId}/members`)).status).toBe(200);
    expect((await orgA.owner.api('DELETE', `/api/v1/orgs/${orgA.orgId}/members/${gone.id}`)).status).toBe(204);
    expect((await call(tokens.access_token, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
  });
});

describe('failed sign-in throttling', () => {
  test('after five wrong passwords an account is refused for a while, even with the right one', async () => {
    const email = uniqueEmail('guessed');
    await t.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: null, passwordHash: await hashPassword(password) }));
    const agent = new FormAgent();
    const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid', code_challenge: 'k'.repeat(43), code_challenge_method: 'S256' });
    let page = await agent.follow(url.href, t.url);
    let form = readForm(page.html, page.url);
    page = await agent.request(form.action, { form: { ...form.fields, email } });
    form = readForm(page.html, page.url);
    for (let i = 0; i < 5; i++) {
      const wrong = await agent.request(form.action, { form: { ...form.fields, password: `wrong guess ${i}` } });
      expect(wrong.status).toBe(401);
    }
    const locked = await agent.request(form.action, { form: { ...form.fields, password } });
    expect(locked.status).toBe(429);
    expect(locked.html).toMatch(/Too many failed attempts/);
    // an email with no account locks the same way: the answer says nothing about existence
    const nobody = 'nobody-locked@example.test';
    for (let i = 0; i < 5; i++) await agent.request(form.action, { form: { ...form.fields, email: nobody, password: 'x' } });
    expect((await agent.request(form.action, { form: { ...form.fields, email: nobody, password: 'x' } })).status).toBe(429);
  });

  test('fifty failures from one address block it for every account, and only that address', async () => {
    const throttle = new SignInThrottle(t.db);
    const address = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    for (let i = 0; i < 50; i++) await throttle.failed(uniqueEmail('spray'), address);
    expect(await throttle.blocked(uniqueEmail('fresh'), address)).toBe(true);
    expect(await throttle.blocked(uniqueEmail('fresh'), '198.51.100.1')).toBe(false);
  });

  test('a successful sign-in clears the account\'s count', async () => {
    const throttle = new SignInThrottle(t.db);
    const email = uniqueEmail('forgetful');
    for (let i = 0; i < 4; i++) await throttle.failed(email, '192.0.2.1');
    await throttle.succeeded(email);
    for (let i = 0; i < 4; i++) await throttle.failed(email, '192.0.2.1');
    expect(await throttle.blocked(email, '192.0.2.2')).toBe(false);
  });
});

describe('the enterprise SSO hook at the email step', () => {
  const idp = 'https://idp.example.test/sso/start';
  beforeAll(() => t.app.enterpriseSso.use(async (email) => (email.endsWith('@sso-corp.example.test') ? `${idp}?for=${encodeURIComponent(email)}` : null)));
  afterAll(() => t.app.enterpriseSso.use(async () => null));

  test('an email of an SSO domain goes to the IdP instead of the password step (by a new navigation, not a redirect of the form post); others go on', async () => {
    const agent = new FormAgent();
    const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid', code_challenge: 's'.repeat(43), code_challenge_method: 'S256' });
    let page = await agent.follow(url.href, t.url);
    const form = readForm(page.html, page.url);
    page = await agent.request(form.action, { form: { ...form.fields, email: 'Pat@sso-corp.example.test' } });
    // A redirect would stay under the form's CSP form-action 'self', which browsers apply to redirects.
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<meta http-equiv="refresh" content="0;url=${idp}?for=${encodeURIComponent('pat@sso-corp.example.test')}">`);
    page = await agent.request(form.action, { form: { ...form.fields, email: user.email } });
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
  });

  test('a login_hint of an SSO domain goes straight to the IdP; a malformed one shows the email step', async () => {
    const hinted = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid', code_challenge: 't'.repeat(43), code_challenge_method: 'S256', login_hint: 'lee@sso-corp.example.test' });
    const page = await new FormAgent().follow(hinted.href, t.url);
    expect(page.location).toBe(`${idp}?for=${encodeURIComponent('lee@sso-corp.example.test')}`);
    const malformed = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid', code_challenge: 'u'.repeat(43), code_challenge_method: 'S256', login_hint: 'not an email@sso-corp.example.test' });
    const shown = await new FormAgent().follow(malformed.href, t.url);
    expect(readForm(shown.html, shown.url).fields.email).toBe('not an email@sso-corp.example.test');
  });
});
