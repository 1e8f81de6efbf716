import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { refusalsOf } from '../helpers/snapshot.ts';

// Custom roles holding the product's permissions (the route policy's `permissions:`).
const policy = `permissions:
  agents:read: [owner, admin, member, viewer]
  agents:write: [owner, admin]
  reports:export: [owner]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:write
  - match: GET /orgs/:orgId/reports
    permission: reports:export
`;

let t: TestApp;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-roles-'));
  writeFileSync(join(dir, 'routes.yaml'), policy);
  t = await startAppAtPublicUrl({ GATEHOUSE_ROUTES: join(dir, 'routes.yaml') });
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const roles = (org: TestOrg) => `/api/v1/orgs/${org.orgId}/roles`;
const expectRefused = refusalsOf(() => t);

test('the permission list shows the product\'s permissions, marked as the product\'s, after Gatehouse\'s', async () => {
  const org = await createOrg(t);
  const res = await org.owner.api('GET', '/api/v1/permissions');
  expect(res.status).toBe(200);
  const product = res.body.data.filter((p: { source: string }) => p.source === 'product');
  expect(product).toEqual([
    { key: 'agents:read', description: expect.stringMatching(/owner, admin, member, viewer$/), grantable: true, source: 'product' },
    { key: 'agents:write', description: expect.stringMatching(/owner, admin$/), grantable: true, source: 'product' },
    { key: 'reports:export', description: expect.stringMatching(/: owner$/), grantable: true, source: 'product' },
  ]);
  expect(res.body.data[0].source).toBe('gatehouse');
});

test('the built-in roles show the product permissions the policy gives them', async () => {
  const org = await createOrg(t);
  const res = await org.owner.api('GET', roles(org));
  const byKey = Object.fromEntries(res.body.data.map((r: { key: string; permissions: string[] }) => [r.key, r.permissions]));
  expect(byKey.admin).toEqual(expect.arrayContaining(['agents:read', 'agents:write']));
  expect(byKey.member).toContain('agents:read');
  expect(byKey.member).not.toContain('agents:write');
});

test('a custom role may hold declared product permissions: 201, Gatehouse\'s first, then the product\'s in policy order', async () => {
  const org = await createOrg(t);
  const res = await org.owner.api('POST', roles(org), { key: 'operator', name: 'Operator', permissions: ['agents:write', 'org:read', 'agents:read'] });
  expect(res.status).toBe(201);
  expect(res.body.permissions).toEqual(['org:read', 'agents:read', 'agents:write']);
  const patched = await org.owner.api('PATCH', `${roles(org)}/operator`, { permissions: ['reports:export'] });
  expect(patched.status).toBe(200);
  expect(patched.body.permissions).toEqual(['reports:export']);
});

test('an undeclared product permission is refused: 400, nothing created', async () => {
  const org = await createOrg(t);
  const res = await expectRefused(org, () => org.owner.api('POST', roles(org), { key: 'operator', name: 'Operator', permissions: ['agents:delete'] }), 400, 'request.invalid');
  expect(res.body.errors).toEqual([{ field: 'body.permissions.0', message: 'unknown permission "agents:delete"' }]);
});

test('an undeclared product permission in a change is refused: 400, the role unchanged', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), { key: 'operator', name: 'Operator', permissions: ['agents:read'] });
  await expectRefused(org, () => org.owner.api('PATCH', `${roles(org)}/operator`, { permissions: ['agents:read', 'agent:write'] }), 400, 'request.invalid');
});

test('a role manager lacking agents:write cannot create or raise a role holding it: 403, nothing changed', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), { key: 'role-keeper', name: 'Role keeper', permissions: ['roles:read', 'roles:manage', 'agents:read'] });
  const keeper = await addMember(t, org.orgId, 'role-keeper');
  await expectRefused(org, () => keeper.api('POST', roles(org), { key: 'writer', name: 'Writer', permissions: ['agents:write'] }), 403, 'role.above_caller');
  // What the keeper holds it may grant.
  const reader = await keeper.api('POST', roles(org), { key: 'reader', name: 'Reader', permissions: ['agents:read'] });
  expect(reader.status).toBe(201);
  await expectRefused(org, () => keeper.api('PATCH', `${roles(org)}/reader`, { permissions: ['agents:read', 'agents:write'] }), 403, 'role.above_caller');
});

test('a built-in member (no agents:write in the policy) cannot manage roles at all: 403', async () => {
  const org = await createOrg(t);
  const member = await addMember(t, org.orgId, 'member');
  await expectRefused(org, () => member.api('POST', roles(org), { key: 'writer', name: 'Writer', permissions: ['agents:write'] }), 403, 'auth.forbidden');
});

test('tokens carry product permissions in their permissions claim (a service account with a built-in and a custom role)', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), { key: 'exporter', name: 'Exporter', permissions: ['org:read', 'reports:export'] });
  const issuer = `${t.url}/oidc`;
  const resource = `${t.url}/api/v1`;
  for (const [role, expected, absent] of [['member', 'agents:read', 'agents:write'], ['exporter', 'reports:export', 'agents:read']] as const) {
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: `sa ${role}`, role });
    expect(sa.status).toBe(201);
    expect(sa.body).toMatchObject({ role });
    const config = await oidc.discovery(new URL(issuer), sa.body.clientId, undefined, oidc.ClientSecretBasic(sa.body.clientSecret), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { resource });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), { issuer, audience: resource });
    expect(payload.permissions).toContain(expected);
    expect(payload.permissions).not.toContain(absent);
  }
});
