import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';

// The relying party is openid-client (an independent implementation), never our own code.
let t: TestApp;
let org: TestOrg;
let issuer: string;
let resource: string;

beforeAll(async () => {
  // The issuer URL is PUBLIC_URL/oidc, so the app listens on a port chosen before it starts.
  t = await startAppAtPublicUrl();
  org = await createOrg(t);
  issuer = `${t.url}/oidc`;
  resource = `${t.url}/api/v1`;
});
afterAll(() => t.close());

/** The OAuth error code of a refused grant, whether in the body or a WWW-Authenticate challenge. */
async function oauthError(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (err) {
    const e = err as { error?: string; cause?: { parameters?: { error?: string } }[] };
    return e.error ?? e.cause?.[0]?.parameters?.error ?? String(err);
  }
  return 'no error';
}

async function clientFor(clientId: string, secret: string) {
  return oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
}

test('a service account gets a JWT access token bound to its org and role', async () => {
  const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'sync', role: 'member' });
  const config = await clientFor(sa.body.clientId, sa.body.clientSecret);
  const tokens = await oidc.clientCredentialsGrant(config, { resource });
  expect(tokens.token_type.toLowerCase()).toBe('bearer');
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer, audience: resource });
  expect(protectedHeader.alg).toBe('ES256');
  expect(payload).toMatchObject({
    client_id: sa.body.clientId,
    org_id: org.orgId,
    org_slug: org.slug,
    org_role: 'member',
    permissions: expect.arrayContaining(['org:read', 'api_keys:create']),
  });
  expect(payload.permissions).not.toContain('members:invite');
});

test('discovery publishes both ES256 and RS256 keys and the iss parameter support', async () => {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  const meta = await res.json() as { jwks_uri: string; authorization_response_iss_parameter_supported: boolean; id_token_signing_alg_values_supported: string[] };
  expect(meta.authorization_response_iss_parameter_supported).toBe(true);
  expect(meta.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
  const jwks = await (await fetch(meta.jwks_uri)).json() as { keys: { alg: string; d?: string }[] };
  // both algorithms (a rotation elsewhere on a shared database may publish more keys of each)
  expect([...new Set(jwks.keys.map((k) => k.alg))].sort()).toEqual(['ES256', 'RS256']);
  expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
});

test('a wrong client secret is invalid_client', async () => {
  const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'x', role: 'viewer' });
  const config = await clientFor(sa.body.clientId, 'not-the-secret');
  expect(await oauthError(oidc.clientCredentialsGrant(config, { resource }))).toBe('invalid_client');
});

test('an unknown client is invalid_client', async () => {
  const config = await clientFor('sa_000000000000000000000000', 'whatever');
  expect(await oauthError(oidc.clientCredentialsGrant(config, { resource }))).toBe('invalid_client');
});

test('a revoked service account is refused at once, though the issuer holds it in memory', async () => {
  const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'gone', role: 'viewer' });
  const other = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'kept', role: 'viewer' });
  const config = await clientFor(sa.body.clientId, sa.body.clientSecret);
  const otherConfig = await clientFor(other.body.clientId, other.body.clientSecret);
  // The second grant of each is served from the node's memory (src/oidc/service-account-clients.ts).
  for (let i = 0; i < 2; i++) {
    await oidc.clientCredentialsGrant(config, { resource });
    await oidc.clientCredentialsGrant(otherConfig, { resource });
  }
  expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/service-accounts/${sa.body.id}`)).status).toBe(200);
  expect(await oauthError(oidc.clientCredentialsGrant(config, { resource }))).toBe('invalid_client');
  // Only the revoked client is forgotten.
  const tokens = await oidc.clientCredentialsGrant(otherConfig, { resource });
  expect(tokens.access_token).toBeTruthy();
});

test('an unregistered resource is invalid_target', async () => {
  const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'y', role: 'viewer' });
  const config = await clientFor(sa.body.clientId, sa.body.clientSecret);
  expect(await oauthError(oidc.clientCredentialsGrant(config, { resource: 'https://elsewhere.example/api' }))).toBe('invalid_target');
});

describe('the management API accepts service-account tokens', () => {
  const call = (token: string, method: string, path: string, body?: unknown) => fetch(`${resource}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });

  test('a token acts in its own org with its role, audited as the service account, and nowhere else', async () => {
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'provisioner', role: 'admin' });
    const { access_token: token } = await oidc.clientCredentialsGrant(await clientFor(sa.body.clientId, sa.body.clientSecret), { resource });
    expect((await call(token, 'GET', `/orgs/${org.orgId}/members`)).status).toBe(200);
    const team = await call(token, 'POST', `/orgs/${org.orgId}/teams`, { name: `robots-${sa.body.id.slice(0, 8)}` });
    expect(team.status).toBe(201);
    const teamId = ((await team.json()) as { id: string }).id;
    const events = await t.db.inOrg(org.orgId, (em) => em.execute<{ actor_type: string; actor_id: string }[]>(
      `SELECT actor_type, actor_id FROM audit_events WHERE type = 'team.created' AND target_id = ?`, [teamId]));
    expect(events).toEqual([{ actor_type: 'service_account', actor_id: sa.body.id }]);
    const other = await createOrg(t);
    expect((await call(token, 'GET', `/orgs/${other.orgId}/members`)).status).toBe(404);
  });

  test('a service account never holds owner-only permissions, and can make neither orgs nor API keys', async () => {
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'root-robot', role: 'owner' });
    expect(sa.status).toBe(201);
    const { access_token: token } = await oidc.clientCredentialsGrant(await clientFor(sa.body.clientId, sa.body.clientSecret), { resource });
    expect((await call(token, 'DELETE', `/orgs/${org.orgId}`)).status).toBe(403);
    expect((await call(token, 'POST', '/orgs', { name: 'Robot Org' })).status).toBe(403);
    expect((await call(token, 'POST', `/orgs/${org.orgId}/api-keys`, { name: 'robot key', role: 'member' })).status).toBe(403);
    expect((await org.owner.api('GET', `/api/v1/orgs/${org.orgId}`)).status).toBe(200);
  });

  test('a revoked service account\'s unexpired token is refused at once', async () => {
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'short-lived', role: 'viewer' });
    const { access_token: token } = await oidc.clientCredentialsGrant(await clientFor(sa.body.clientId, sa.body.clientSecret), { resource });
    expect((await call(token, 'GET', `/orgs/${org.orgId}/members`)).status).toBe(200);
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/service-accounts/${sa.body.id}`)).status).toBe(200);
    expect((await call(token, 'GET', `/orgs/${org.orgId}/members`)).status).toBe(401);
  });
});
