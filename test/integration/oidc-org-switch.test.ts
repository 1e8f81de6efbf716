import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { createMember, relyingParty, testPassword, tokensFor } from '../helpers/sign-in.ts';

// Org switching without signing in again (refresh with `organization`, RFC 8693 token
// exchange), and refresh token rotation, with openid-client as the relying party.
const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
let t: TestApp;
let orgA: TestOrg;
let orgB: TestOrg;
let stranger: TestOrg;
let rp: oidc.Configuration;
let api: string;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  api = `${t.url}/api/v1`;
  [orgA, orgB, stranger] = [await createOrg(t), await createOrg(t), await createOrg(t)];
  ({ rp } = await relyingParty(t));
});
afterAll(() => t.close());

async function member(label: string) {
  const user = await createMember(t, [[orgA, 'admin'], [orgB, 'viewer']], label);
  return { ...user, creds: { email: user.email, password: testPassword } };
}

const callApi = (token: string, path: string) => fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe('refresh with organization', () => {
  test('returns tokens for another org the user belongs to, by id or slug; later refreshes stay there', async () => {
    const user = await member('switcher');
    const first = await tokensFor(t, rp, { organization: orgA.orgId }, user.creds);
    expect(first.claims()).toMatchObject({ org_id: orgA.orgId, org_role: 'admin' });

    const inB = await oidc.refreshTokenGrant(rp, first.refresh_token!, { organization: orgB.slug });
    expect(inB.claims()).toMatchObject({ sub: user.id, org_id: orgB.orgId, org_slug: orgB.slug, org_role: 'viewer' });
    expect(await oidc.fetchUserInfo(rp, inB.access_token, user.id)).toMatchObject({ org_id: orgB.orgId });

    const again = await oidc.refreshTokenGrant(rp, inB.refresh_token!);
    expect(again.claims()).toMatchObject({ org_id: orgB.orgId });
    expect((await oidc.refreshTokenGrant(rp, again.refresh_token!, { organization: orgA.orgId })).claims()).toMatchObject({ org_id: orgA.orgId });
  });

  test('a switched refresh for the API returns a JWT access token naming the new org', async () => {
    const user = await member('api-switcher');
    const first = await tokensFor(t, rp, { organization: orgA.orgId, resource: api }, user.creds);
    const inB = await oidc.refreshTokenGrant(rp, first.refresh_token!, { organization: orgB.orgId, resource: api });
    const jwt = await jwtVerify(inB.access_token, createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!)), { audience: api });
    expect(jwt.payload).toMatchObject({ sub: user.id, org_id: orgB.orgId, org_role: 'viewer' });
    expect((await callApi(inB.access_token, `/orgs/${orgB.orgId}/members`)).status).toBe(200);
  });

  test('an org the user does not belong to is invalid_grant, and nothing changes', async () => {
    const user = await member('intruder');
    const tokens = await tokensFor(t, rp, { organization: orgA.orgId }, user.creds);
    for (const named of [stranger.orgId, stranger.slug, 'no-such-org']) {
      await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!, { organization: named })).rejects.toMatchObject({ error: 'invalid_grant' });
    }
    // the refresh token was not spent by the refusals, and its grant still acts in org A
    expect((await oidc.refreshTokenGrant(rp, tokens.refresh_token!)).claims()).toMatchObject({ org_id: orgA.orgId });
  });

  test('after switching to org B and being removed from it, the refresh token fails; org A is still reachable by signing in', async () => {
    const user = await member('switched-out');
    const tokens = await tokensFor(t, rp, { organization: orgA.orgId }, user.creds);
    const inB = await oidc.refreshTokenGrant(rp, tokens.refresh_token!, { organization: orgB.orgId });
    expect((await orgB.owner.api('DELETE', `/api/v1/orgs/${orgB.orgId}/members/${user.id}`)).status).toBe(204);
    await expect(oidc.refreshTokenGrant(rp, inB.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(rp, inB.refresh_token!, { organization: orgA.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await tokensFor(t, rp, { organization: orgA.orgId }, user.creds)).claims()).toMatchObject({ org_id: orgA.orgId });
  });
});

describe('an org that requires a second factor', () => {
  test('is not reached by a switch for an admin without one (refresh or exchange): they must sign in to it', async () => {
    const strict = await createOrg(t);
    expect((await strict.owner.api('PATCH', `/api/v1/orgs/${strict.orgId}`, { requireMfa: true })).status).toBe(200);
    const user = await createMember(t, [[orgA, 'member'], [strict, 'admin']], 'strict-admin');
    const creds = { email: user.email, password: testPassword };
    const tokens = await tokensFor(t, rp, { organization: orgA.orgId, resource: api }, creds);
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!, { organization: strict.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.genericGrantRequest(rp, exchangeGrant, { subject_token: tokens.access_token, subject_token_type: accessTokenType, organization: strict.orgId }))
      .rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.refreshTokenGrant(rp, tokens.refresh_token!)).claims()).toMatchObject({ org_id: orgA.orgId });
  });
});

describe('refresh token rotation', () => {
  test('each refresh returns a new refresh token; presenting a used one revokes the grant (reuse detection)', async () => {
    const user = await member('rotator');
    const tokens = await tokensFor(t, rp, { organization: orgA.orgId }, user.creds);
    const next = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(next.refresh_token).toEqual(expect.any(String));
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // the reuse took the whole grant with it: the legitimate holder's newer token is gone too
    await expect(oidc.refreshTokenGrant(rp, next.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(rp, next.access_token, user.id)).rejects.toBeDefined();
  });
});

describe('token exchange (RFC 8693)', () => {
  const exchange = (params: Record<string, string>) => oidc.genericGrantRequest(rp, exchangeGrant, { subject_token_type: accessTokenType, ...params });

  test('an access token for org A becomes one for org B, for the same API, never outliving it', async () => {
    const user = await member('exchanger');
    const inA = await tokensFor(t, rp, { organization: orgA.orgId, resource: api }, user.creds);
    const exchanged = await exchange({ subject_token: inA.access_token, organization: orgB.orgId });
    expect(exchanged.issued_token_type).toBe(accessTokenType);
    expect(exchanged.refresh_token).toBeUndefined();
    const jwt = await jwtVerify(exchanged.access_token, createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!)), { audience: api, issuer: `${t.url}/oidc` });
    expect(jwt.payload).toMatchObject({ sub: user.id, org_id: orgB.orgId, org_role: 'viewer' });
    expect(jwt.payload.exp!).toBeLessThanOrEqual(decodeJwt(inA.access_token).exp!);
    expect((await callApi(exchanged.access_token, `/orgs/${orgB.orgId}/members`)).status).toBe(200);
    expect((await callApi(exchanged.access_token, `/orgs/${orgA.orgId}/members`)).status).toBe(404);
  });

  test('an org the user does not belong to is invalid_grant', async () => {
    const user = await member('exchange-intruder');
    const inA = await tokensFor(t, rp, { organization: orgA.orgId, resource: api }, user.creds);
    for (const organization of [stranger.orgId, stranger.slug, 'no-such-org']) {
      await expect(exchange({ subject_token: inA.access_token, organization })).rejects.toMatchObject({ error: 'invalid_grant' });
    }
  });

  test('an opaque token can be narrowed to fewer scopes, not widened', async () => {
    const user = await member('narrower');
    const tokens = await tokensFor(t, rp, { organization: orgA.orgId }, user.creds);
    const narrow = await exchange({ subject_token: tokens.access_token, scope: 'openid org' });
    expect(narrow.scope).toBe('openid org');
    const info = await oidc.fetchUserInfo(rp, narrow.access_token, user.id);
    expect(info).toMatchObject({ org_id: orgA.orgId });
    expect(info.email).toBeUndefined();
    await expect(exchange({ subject_token: narrow.access_token, scope: 'openid org email' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  test('bad subject tokens are refused: unknown, tampered, another client\'s, a service account\'s, the wrong type', async () => {
    const user = await member('exchange-bad');
    const inA = await tokensFor(t, rp, { organization: orgA.orgId, resource: api }, user.creds);
    await expect(exchange({ subject_token: 'not-a-token', organization: orgB.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });
    const [h, p, s] = inA.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: orgA.owner.userId })).toString('base64url')}.${s}`;
    await expect(exchange({ subject_token: tampered, organization: orgB.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });

    const { rp: other } = await relyingParty(t);
    await expect(oidc.genericGrantRequest(other, exchangeGrant, { subject_token: inA.access_token, subject_token_type: accessTokenType, organization: orgB.orgId }))
      .rejects.toMatchObject({ error: 'invalid_grant' });

    const created = await orgA.owner.api('POST', `/api/v1/orgs/${orgA.orgId}/service-accounts`, { name: 'robot', role: 'admin' });
    const account = created.body as { clientId: string; clientSecret: string };
    const robot = new oidc.Configuration(rp.serverMetadata(), account.clientId, undefined, oidc.ClientSecretBasic(account.clientSecret));
    oidc.allowInsecureRequests(robot);
    const machine = await oidc.clientCredentialsGrant(robot);
    await expect(exchange({ subject_token: machine.access_token, organization: orgB.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });

    await expect(exchange({ subject_token: inA.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', organization: orgB.orgId }))
      .rejects.toMatchObject({ error: 'invalid_request' });
    await expect(exchange({ subject_token: inA.access_token, actor_token: inA.access_token, actor_token_type: accessTokenType }))
      .rejects.toMatchObject({ error: 'invalid_request' });
  });

  test('a member removed from org B: tokens exchanged into B stop working', async () => {
    const user = await member('exchange-removed');
    const inA = await tokensFor(t, rp, { organization: orgA.orgId, resource: api }, user.creds);
    const exchanged = await exchange({ subject_token: inA.access_token, organization: orgB.orgId });
    expect((await orgB.owner.api('DELETE', `/api/v1/orgs/${orgB.orgId}/members/${user.id}`)).status).toBe(204);
    expect((await callApi(exchanged.access_token, `/orgs/${orgB.orgId}/members`)).status).toBe(401);
    await expect(exchange({ subject_token: inA.access_token, organization: orgB.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
