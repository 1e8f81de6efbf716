import { randomUUID } from 'node:crypto';
import { generateSpCredentials } from '../../saml/sp-credentials.ts';
import { apiRoutes } from '../../src/http/routes.ts';
import type { RouteSpec } from '../../src/http/route.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestMember, type TestOrg } from '../helpers/factories.ts';
import { snapshot } from '../helpers/snapshot.ts';

// Tenancy lock 1 end to end: for every org route of the management API, org B's credential on
// org A's resources answers 404 and changes nothing in org A. The route list comes from the
// app itself, so a new route is covered the day it is added.
let t: TestApp;
let a: TestOrg;
let b: TestOrg;
let aMember: TestMember;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startApp();
  a = await createOrg(t);
  b = await createOrg(t);
  aMember = await addMember(t, a.orgId, 'member');
  const o = `/api/v1/orgs/${a.orgId}`;
  const role = await a.owner.api('POST', `${o}/roles`, { key: 'support', name: 'Support', permissions: ['org:read'] });
  const team = await a.owner.api('POST', `${o}/teams`, { name: 'Core' });
  await a.owner.api('POST', `${o}/teams/${team.body.id}/members`, { userId: aMember.userId, role: 'member' });
  const invitation = await a.owner.api('POST', `${o}/invitations`, { email: `${randomUUID()}@example.test`, role: 'member' });
  const key = await a.owner.api('POST', `${o}/api-keys`, { name: 'a key', role: 'viewer' });
  const account = await a.owner.api('POST', `${o}/service-accounts`, { name: 'a robot', role: 'viewer' });
  const domain = await a.owner.api('POST', `${o}/domains`, { domain: `a-${randomUUID().slice(0, 8)}.example` });
  const connection = await a.owner.api('POST', `${o}/connections`, connectionBody());
  const directory = await a.owner.api('POST', `${o}/directories`, { name: 'A directory', defaultRole: 'member' });
  const groupId = await insertDirectoryGroup(a.orgId, directory.body.id);
  const rule = await a.owner.api('POST', `${o}/directories/${directory.body.id}/rules`, { groupId, role: 'viewer' });
  const workspace = await a.owner.api('POST', `${o}/workspaces`, { name: 'Production' });
  const setupLink = await a.owner.api('POST', `${o}/setup-links`, { scope: 'both' });
  const ssoTest = await a.owner.api('POST', `${o}/connections/${connection.body.id}/test`, { returnTo: '/admin/x' });
  Object.assign(ids, {
    roleId: role.body.key, teamId: team.body.id, invitationId: invitation.body.id, apiKeyId: key.body.id, userId: aMember.userId, serviceAccountId: account.body.id,
    domainId: domain.body.id, connectionId: connection.body.id, directoryId: directory.body.id, groupId, ruleId: rule.body.id,
    workspaceId: workspace.body.id, setupLinkId: setupLink.body.id, testId: ssoTest.body.id,
  });
  for (const v of Object.values(ids)) expect(v).toEqual(expect.any(String));
});
afterAll(() => t.close());

/** A group as org A's IdP would have pushed it (the SCIM edge is not needed for this). */
async function insertDirectoryGroup(orgId: string, directoryId: string): Promise<string> {
  const id = randomUUID();
  await t.db.inOrg(orgId, (em) => em.execute(
    'INSERT INTO directory_groups (id, org_id, directory_id, display_name) VALUES (?, ?, ?, ?)', [id, orgId, directoryId, 'Engineering']));
  return id;
}

function connectionBody() {
  return { type: 'saml', name: 'Intruder IdP', idpEntityId: 'https://idp.example/x', ssoUrl: 'https://idp.example/sso', certificates: [generateSpCredentials('idp').certificatePem] };
}

/** A valid body for each route that takes one, so the request would succeed in the right org. */
const bodies: Record<string, () => unknown> = {
  'PATCH /orgs/:orgId': () => ({ name: 'Hijacked' }),
  'POST /orgs/:orgId/transfer-ownership': () => ({ userId: ids.userId }),
  'PATCH /orgs/:orgId/members/:userId': () => ({ role: 'viewer' }),
  'POST /orgs/:orgId/invitations': () => ({ email: `${randomUUID()}@example.test`, role: 'member' }),
  'POST /orgs/:orgId/api-keys': () => ({ name: 'intruder', role: 'viewer' }),
  'POST /orgs/:orgId/roles': () => ({ key: `r-${randomUUID().slice(0, 8)}`, name: 'Intruder', permissions: ['org:read'] }),
  'PATCH /orgs/:orgId/roles/:roleId': () => ({ name: 'Intruder' }),
  'POST /orgs/:orgId/teams': () => ({ name: `Intruders ${randomUUID()}` }),
  'PATCH /orgs/:orgId/teams/:teamId': () => ({ name: 'Intruders' }),
  'POST /orgs/:orgId/teams/:teamId/members': () => ({ userId: ids.userId, role: 'member' }),
  'PATCH /orgs/:orgId/teams/:teamId/members/:userId': () => ({ role: 'admin' }),
  'POST /orgs/:orgId/service-accounts': () => ({ name: 'intruder', role: 'viewer' }),
  'POST /orgs/:orgId/me/totp/confirm': () => ({ code: '123456' }),
  'DELETE /orgs/:orgId/me/totp': () => ({ code: '123456' }),
  'POST /orgs/:orgId/domains': () => ({ domain: `intruder-${randomUUID().slice(0, 8)}.example` }),
  'POST /orgs/:orgId/connections': connectionBody,
  'PATCH /orgs/:orgId/connections/:id': () => ({ name: 'Intruder' }),
  'POST /orgs/:orgId/connections/:id/test': () => ({ returnTo: '/admin/x' }),
  'POST /orgs/:orgId/directories': () => ({ name: 'Intruder', defaultRole: 'member' }),
  'PATCH /orgs/:orgId/directories/:id': () => ({ name: 'Intruder', defaultRole: 'viewer' }),
  'POST /orgs/:orgId/directories/:id/rules': () => ({ groupId: ids.groupId, role: 'admin' }),
  'POST /orgs/:orgId/api-keys/:id/rotate': () => ({ gracePeriodSeconds: 60 }),
  'POST /orgs/:orgId/workspaces': () => ({ name: `Intruders ${randomUUID()}` }),
  'PATCH /orgs/:orgId/workspaces/:workspaceId': () => ({ name: 'Intruders' }),
  'PUT /orgs/:orgId/members/:userId/workspaces': () => ({ workspaceIds: [] }),
  'POST /orgs/:orgId/billing/checkout': () => ({ plan: 'team' }),
  'POST /orgs/:orgId/setup-links': () => ({ scope: 'both' }),
};

function routeKey(spec: RouteSpec): string {
  return `${spec.method.toUpperCase()} ${spec.path}`;
}

function fill(spec: RouteSpec, orgId: string): string {
  return `/api/v1${spec.path}`
    .replace(':orgId', orgId)
    .replace(':userId', ids.userId!)
    .replace(':teamId', ids.teamId!)
    .replace(':roleId', ids.roleId!)
    .replace(':ruleId', ids.ruleId!)
    .replace(':workspaceId', ids.workspaceId!)
    .replace(':testId', ids.testId!)
    .replace(':id', idFor(spec.path));
}

function idFor(path: string): string {
  if (path.includes('/invitations/')) return ids.invitationId!;
  if (path.includes('/service-accounts/')) return ids.serviceAccountId!;
  if (path.includes('/domains/')) return ids.domainId!;
  if (path.includes('/connections/')) return ids.connectionId!;
  if (path.includes('/directories/')) return ids.directoryId!;
  if (path.includes('/setup-links/')) return ids.setupLinkId!;
  return ids.apiKeyId!;
}

function orgRoutes(): RouteSpec[] {
  return apiRoutes(t.app.services).filter((s) => s.zone === 'org');
}

test('every org route with a body has a sample body here', () => {
  const missing = orgRoutes().filter((s) => s.body && !bodies[routeKey(s)]).map(routeKey);
  expect(missing).toEqual([]);
});

test('org B\'s credential on org A\'s path answers 404 for every org route and changes nothing', async () => {
  const routes = orgRoutes();
  expect(routes.length).toBeGreaterThanOrEqual(20);
  const before = await snapshot(t, a.orgId);
  const answers: Record<string, number> = {};
  for (const spec of routes) {
    const res = await b.owner.api(spec.method.toUpperCase(), fill(spec, a.orgId), bodies[routeKey(spec)]?.());
    answers[routeKey(spec)] = res.status;
  }
  expect(answers).toEqual(Object.fromEntries(routes.map((s) => [routeKey(s), 404])));
  expect(await snapshot(t, a.orgId)).toEqual(before);
});

test('org B\'s credential naming org A\'s resources inside org B answers 404 and changes nothing', async () => {
  const routes = orgRoutes().filter((s) => /:(userId|teamId|roleId|ruleId|workspaceId|id)\b/.test(s.path) && !s.path.endsWith('transfer-ownership'));
  const before = await snapshot(t, a.orgId);
  const answers: Record<string, number> = {};
  for (const spec of routes) {
    const res = await b.owner.api(spec.method.toUpperCase(), fill(spec, b.orgId), bodies[routeKey(spec)]?.());
    answers[routeKey(spec)] = res.status;
  }
  expect(answers).toEqual(Object.fromEntries(routes.map((s) => [routeKey(s), 404])));
  expect(await snapshot(t, a.orgId)).toEqual(before);
});

test('org B cannot make org A\'s member its owner', async () => {
  const res = await b.owner.api('POST', `/api/v1/orgs/${b.orgId}/transfer-ownership`, { userId: ids.userId });
  expect(res.status).toBe(404);
});

test('org B\'s lists never contain org A\'s rows', async () => {
  const o = `/api/v1/orgs/${b.orgId}`;
  const text = (await Promise.all(['members', 'api-keys', 'roles', 'teams', 'invitations', 'audit-events', 'service-accounts', 'directories', 'workspaces'].map((p) =>
    b.owner.api('GET', `${o}/${p}?limit=200`).then((r) => r.text)))).join('\n');
  for (const id of [a.orgId, a.owner.userId, ...Object.values(ids)]) expect(text).not.toContain(id);
});

test('a credential of a deleted org is refused everywhere', async () => {
  const c = await createOrg(t);
  await c.owner.api('DELETE', `/api/v1/orgs/${c.orgId}`);
  const res = await c.owner.api('GET', `/api/v1/orgs/${a.orgId}/members`);
  expect(res.status).toBe(401);
});
