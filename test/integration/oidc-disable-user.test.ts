import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import pino from 'pino';
import { disableUser, enableUser } from '../../src/oidc/account-revocation.ts';
import { OidcAdapter } from '../../src/oidc/adapter.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent } from '../helpers/browser.ts';
import { createOrg, keyFor, type TestOrg } from '../helpers/factories.ts';
import { createMember, relyingParty, signIn, testPassword, tokensFor } from '../helpers/sign-in.ts';

// Disabling a user ends their access everywhere at once: sessions, refresh and access tokens,
// API keys, in every org; clients with a back-channel logout URI get a logout token.
let t: TestApp;
let orgA: TestOrg;
let orgB: TestOrg;
let rp: oidc.Configuration;
let clientId: string;
let receiver: Server;
const logoutTokens: string[] = [];

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  [orgA, orgB] = [await createOrg(t), await createOrg(t)];
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const backchannelLogoutUri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/backchannel`;
  ({ rp, clientId } = await relyingParty(t, { backchannelLogoutUri }));
});
afterAll(async () => {
  receiver.close();
  await t.close();
});

const deps = () => ({ db: t.db, platform: t.app.services.platform, provider: () => t.app.issuer.provider, logger: pino({ level: 'silent' }) });
const api = () => `${t.url}/api/v1`;
const call = (token: string, path: string) => fetch(`${api()}${path}`, { headers: { authorization: `Bearer ${token}` } });

test('a disabled user\'s sessions, tokens and API keys end in every org; their clients are told; enabling restores sign-in', async () => {
  const user = await createMember(t, [[orgA, 'admin'], [orgB, 'member']], 'disabled');
  const creds = { email: user.email, password: testPassword };
  const agent = new FormAgent();
  const first = await signIn(t, rp, { organization: orgA.orgId, resource: api() }, creds, undefined, agent);
  const inA = await oidc.authorizationCodeGrant(rp, new URL(first.page.location!), { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce }, { resource: api() });
  const inB = await tokensFor(t, rp, { organization: orgB.orgId }, creds);
  const key = await keyFor(t, orgB.orgId, user.id, 'member');
  expect((await call(inA.access_token, `/orgs/${orgA.orgId}/members`)).status).toBe(200);
  expect((await call(key, `/orgs/${orgB.orgId}/members`)).status).toBe(200);
  const sid = inA.claims()!.sid;

  await disableUser(deps(), user.id);

  await expect(oidc.refreshTokenGrant(rp, inA.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  await expect(oidc.refreshTokenGrant(rp, inB.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  await expect(oidc.fetchUserInfo(rp, inB.access_token, user.id)).rejects.toBeDefined();
  expect((await call(inA.access_token, `/orgs/${orgA.orgId}/members`)).status).toBe(401);
  expect((await call(key, `/orgs/${orgB.orgId}/members`)).status).toBe(401);

  // the browser's session is gone: the same agent is asked to sign in again…
  const again = await signIn(t, rp, { organization: orgA.orgId }, { email: '', password: '' }, undefined, agent);
  expect(again.page.html).toContain('name="email"');
  // …and the right password no longer gets a code
  const refused = await signIn(t, rp, { organization: orgA.orgId }, creds);
  expect(refused.page.status).toBe(403);
  expect(refused.page.location).toBeNull();
  expect(refused.page.html).toMatch(/disabled/);

  // OpenID Connect Back-Channel Logout: a logout token for the ended session, verified with jose
  expect(logoutTokens.length).toBeGreaterThanOrEqual(1);
  const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!));
  const verified = await Promise.all(logoutTokens.map((token) => jwtVerify(token, jwks, { issuer: `${t.url}/oidc`, audience: clientId, typ: 'logout+jwt' })));
  const forUser = verified.map((v) => v.payload).filter((p) => p.sub === user.id);
  expect(forUser).toEqual(expect.arrayContaining([expect.objectContaining({ sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })]));
  expect(forUser.every((p) => p.nonce === undefined && typeof p.jti === 'string')).toBe(true);

  for (const org of [orgA, orgB]) {
    const events = await t.db.inOrg(org.orgId, (em) => em.execute<{ type: string }[]>(
      `SELECT type FROM audit_events WHERE target_id = ? AND type = 'user.disabled'`, [user.id]));
    expect(events).toHaveLength(1);
  }

  await enableUser(deps(), user.id);
  expect((await tokensFor(t, rp, { organization: orgB.orgId }, creds)).claims()).toMatchObject({ sub: user.id, org_id: orgB.orgId, org_role: 'member' });
});

test('RP-initiated logout ends the session and tells back-channel clients', async () => {
  const user = await createMember(t, [[orgA, 'member']], 'logout');
  const agent = new FormAgent();
  const first = await signIn(t, rp, { organization: orgA.orgId }, { email: user.email, password: testPassword }, undefined, agent);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(first.page.location!), { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce });
  const before = logoutTokens.length;
  // the end-session page asks the browser to confirm (a form with the provider's xsrf token)
  let page = await agent.follow(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! }).href, t.url);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.html)?.[1];
  const action = /<form[^>]*action="([^"]+)"/.exec(page.html)?.[1];
  expect(xsrf && action).toBeTruthy();
  page = await agent.request(new URL(action!, page.url).href, { form: { xsrf: xsrf!, logout: 'yes' } });
  if (page.location?.startsWith(t.url)) page = await agent.follow(page.location, t.url);
  await new Promise((r) => setTimeout(r, 200));
  const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!));
  const fresh = await Promise.all(logoutTokens.slice(before).map((token) => jwtVerify(token, jwks, { audience: clientId })));
  expect(fresh.map((v) => v.payload)).toEqual([expect.objectContaining({ sub: user.id, sid: tokens.claims()!.sid })]);
  const again = await signIn(t, rp, { organization: orgA.orgId }, { email: '', password: '' }, undefined, agent);
  expect(again.page.html).toContain('name="email"');
});

test('disabling a user that does not exist is a clear not-found, and nothing changes', async () => {
  await expect(disableUser(deps(), '00000000-0000-7000-8000-000000000000')).rejects.toMatchObject({ status: 404, code: 'user.not_found' });
});

test('a stored payload holding a NUL (request parameters are kept verbatim) does not stop a disable', async () => {
  const user = await createMember(t, [[orgA, 'member']], 'nul-payload');
  const interaction = new OidcAdapter(t.db, 'Interaction');
  await interaction.upsert('nul-interaction-' + user.id, { accountId: user.id, params: { state: 'x\u0000y' } }, 600);
  await new OidcAdapter(t.db, 'AccessToken').upsert('nul-other-' + user.id, { note: 'a\u0000b' }, 600);
  await disableUser(deps(), user.id);
  expect(await interaction.find('nul-interaction-' + user.id)).toBeUndefined();
  expect(await new OidcAdapter(t.db, 'AccessToken').find('nul-other-' + user.id)).toMatchObject({ note: 'a\u0000b' });
});
