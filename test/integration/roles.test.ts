import { randomUUID } from 'node:crypto';
import { builtinRoles, ownerOnlyPermissions } from '../../src/modules/roles/permissions.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { auditEventsOf, refusalsOf, snapshot } from '../helpers/snapshot.ts';

let t: TestApp;

beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

const roles = (org: TestOrg) => `/api/v1/orgs/${org.orgId}/roles`;

const expectRefused = refusalsOf(() => t);
const auditOf = (orgId: string, type: string) => auditEventsOf(t, orgId, type);

const support = { key: 'support', name: 'Support', description: 'Helps customers', permissions: ['org:read', 'members:read', 'teams:read'] };

test('GET /permissions lists the catalogue and marks the owner-only permissions not grantable', async () => {
  const org = await createOrg(t);
  const viewer = await addMember(t, org.orgId, 'viewer');
  const res = await viewer.api('GET', '/api/v1/permissions');
  expect(res.status).toBe(200);
  expect(res.body.data).toContainEqual({ key: 'teams:manage', description: expect.any(String), grantable: true, source: 'gatehouse' });
  const notGrantable = res.body.data.filter((p: { grantable: boolean }) => !p.grantable).map((p: { key: string }) => p.key);
  expect(notGrantable.sort()).toEqual([...ownerOnlyPermissions].sort());
});

test('the roles list shows the built-ins with their permissions, then custom roles', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  const viewer = await addMember(t, org.orgId, 'viewer');
  const res = await viewer.api('GET', roles(org));
  expect(res.status).toBe(200);
  expect(res.body.data.map((r: { key: string }) => r.key)).toEqual(['owner', 'admin', 'member', 'viewer', 'support']);
  expect(res.body.data[3]).toMatchObject({ builtin: true, permissions: builtinRoles.viewer.permissions, createdAt: null });
  expect(res.body.data[4]).toMatchObject({ ...support, builtin: false });
});

test('an admin creates a custom role, audited as role.created', async () => {
  const org = await createOrg(t);
  const admin = await addMember(t, org.orgId, 'admin');
  // Duplicates collapse and the list comes back in catalogue order.
  const res = await admin.api('POST', roles(org), { ...support, permissions: ['teams:read', 'org:read', 'members:read', 'org:read'] });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ ...support, builtin: false });
  const [event] = await auditOf(org.orgId, 'role.created');
  expect(event).toMatchObject({ target_id: 'support', after: { key: 'support', permissions: support.permissions } });
});

test('updating a custom role changes it and records before and after', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  const res = await org.owner.api('PATCH', `${roles(org)}/support`, { name: 'Customer support', description: null, permissions: ['org:read'] });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ key: 'support', name: 'Customer support', description: null, permissions: ['org:read'] });
  const [event] = await auditOf(org.orgId, 'role.updated');
  expect(event).toMatchObject({
    target_id: 'support',
    before: { name: 'Support', description: 'Helps customers', permissions: support.permissions },
    after: { name: 'Customer support', description: null, permissions: ['org:read'] },
  });
});

test('deleting an unused custom role removes it, audited as role.deleted', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  const res = await org.owner.api('DELETE', `${roles(org)}/support`);
  expect(res.status).toBe(204);
  expect((await snapshot(t, org.orgId)).roles).toEqual([]);
  expect(await auditOf(org.orgId, 'role.deleted')).toMatchObject([{ target_id: 'support', before: { key: 'support' } }]);
});

test('a custom role can be given to a member with PATCH /members/:userId', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  const member = await addMember(t, org.orgId, 'member');
  const res = await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/members/${member.userId}`, { role: 'support' });
  expect(res.status).toBe(204);
  const list = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/members?role=support`);
  expect(list.body.data.map((m: { userId: string }) => m.userId)).toEqual([member.userId]);
});

test('a key with a custom role can do exactly what the role grants, as the role is now', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), { key: 'team-lead', name: 'Team lead', permissions: ['org:read', 'teams:read', 'teams:manage'] });
  const lead = await addMember(t, org.orgId, 'team-lead');
  const base = `/api/v1/orgs/${org.orgId}`;
  expect((await lead.api('GET', base)).status).toBe(200);
  expect((await lead.api('POST', `${base}/teams`, { name: 'Platform' })).status).toBe(201);
  expect((await lead.api('GET', `${base}/teams`)).status).toBe(200);
  for (const [method, path, body] of [
    ['GET', `${base}/members`],
    ['GET', `${base}/roles`],
    ['PATCH', base, { name: 'Renamed' }],
    ['GET', `${base}/api-keys`],
    ['POST', `${base}/roles`, support],
  ] as const) {
    const res = await lead.api(method, path, body);
    expect([method, path, res.status, res.body.code]).toEqual([method, path, 403, 'auth.forbidden']);
  }
  // Permissions are read per request: narrowing the role narrows the key at once.
  await org.owner.api('PATCH', `${roles(org)}/team-lead`, { permissions: ['org:read', 'teams:read'] });
  expect((await lead.api('POST', `${base}/teams`, { name: 'Data' })).body.code).toBe('auth.forbidden');
});

test('creating a role with an unknown permission is a 400 field error and changes nothing', async () => {
  const org = await createOrg(t);
  const res = await expectRefused(org, () => org.owner.api('POST', roles(org), { ...support, permissions: ['org:read', 'org:fly'] }), 400, 'request.invalid');
  expect(res.body.errors).toEqual([{ field: 'body.permissions.1', message: expect.stringContaining('org:fly') }]);
});

test('updating a role with an unknown permission is a 400 and changes nothing', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  await expectRefused(org, () => org.owner.api('PATCH', `${roles(org)}/support`, { permissions: ['nope'] }), 400, 'request.invalid');
});

test('owner-only permissions cannot go into a custom role, even for the owner', async () => {
  const org = await createOrg(t);
  for (const permission of ownerOnlyPermissions) {
    const res = await expectRefused(org, () => org.owner.api('POST', roles(org), { ...support, permissions: [permission] }), 400, 'request.invalid');
    expect(res.body.errors).toEqual([{ field: 'body.permissions.0', message: expect.stringContaining('owner') }]);
  }
  await org.owner.api('POST', roles(org), support);
  await expectRefused(org, () => org.owner.api('PATCH', `${roles(org)}/support`, { permissions: ['billing:manage'] }), 400, 'request.invalid');
});

test('a built-in role key cannot be taken by a custom role (409 role.exists)', async () => {
  const org = await createOrg(t);
  for (const key of Object.keys(builtinRoles)) {
    await expectRefused(org, () => org.owner.api('POST', roles(org), { ...support, key }), 409, 'role.exists');
  }
});

test('a duplicate custom role key is a 409 role.exists', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  await expectRefused(org, () => org.owner.api('POST', roles(org), { ...support, name: 'Other' }), 409, 'role.exists');
});

test('a malformed role key is a 400 and creates nothing', async () => {
  const org = await createOrg(t);
  await expectRefused(org, () => org.owner.api('POST', roles(org), { ...support, key: 'Support Team' }), 400, 'request.invalid');
});

test('nobody creates or raises a role above their own permissions (403 role.above_caller)', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), { key: 'role-admin', name: 'Role admin', permissions: ['roles:read', 'roles:manage', 'org:read'] });
  await org.owner.api('POST', roles(org), support);
  const roleAdmin = await addMember(t, org.orgId, 'role-admin');
  await expectRefused(org, () => roleAdmin.api('POST', roles(org), { ...support, key: 'helper', permissions: ['org:read', 'members:update'] }), 403, 'role.above_caller');
  // "support" holds members:read and teams:read, which role-admin lacks: it may not reshape it either.
  await expectRefused(org, () => roleAdmin.api('PATCH', `${roles(org)}/support`, { permissions: ['org:read'] }), 403, 'role.above_caller');
  await expectRefused(org, () => roleAdmin.api('DELETE', `${roles(org)}/support`), 403, 'role.above_caller');
  // Within its own permissions it may work.
  expect((await roleAdmin.api('POST', roles(org), { key: 'reader', name: 'Reader', permissions: ['org:read'] })).status).toBe(201);
});

test('a viewer cannot create, change or delete roles', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  const viewer = await addMember(t, org.orgId, 'viewer');
  await expectRefused(org, () => viewer.api('POST', roles(org), { key: 'reader', name: 'Reader', permissions: ['org:read'] }), 403, 'auth.forbidden');
  await expectRefused(org, () => viewer.api('PATCH', `${roles(org)}/support`, { name: 'X' }), 403, 'auth.forbidden');
  await expectRefused(org, () => viewer.api('DELETE', `${roles(org)}/support`), 403, 'auth.forbidden');
});

test('built-in roles cannot be changed or deleted (403 role.builtin)', async () => {
  const org = await createOrg(t);
  await expectRefused(org, () => org.owner.api('PATCH', `${roles(org)}/viewer`, { permissions: ['org:read'] }), 403, 'role.builtin');
  await expectRefused(org, () => org.owner.api('DELETE', `${roles(org)}/admin`), 403, 'role.builtin');
});

test('an unknown role is 404 role.not_found, including another org\'s role', async () => {
  const org = await createOrg(t);
  const other = await createOrg(t);
  await other.owner.api('POST', roles(other), support);
  await expectRefused(org, () => org.owner.api('PATCH', `${roles(org)}/support`, { name: 'Mine now' }), 404, 'role.not_found');
  await expectRefused(org, () => org.owner.api('DELETE', `${roles(org)}/support`), 404, 'role.not_found');
  const list = await org.owner.api('GET', roles(org));
  expect(list.body.data.map((r: { key: string }) => r.key)).not.toContain('support');
  expect((await snapshot(t, other.orgId)).roles).toHaveLength(1);
});

test('deleting a role a member holds is a 409 role.in_use and changes nothing', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  await addMember(t, org.orgId, 'support');
  const res = await expectRefused(org, () => org.owner.api('DELETE', `${roles(org)}/support`), 409, 'role.in_use');
  expect(res.body.detail).toContain('1 member(s)');
});

test('deleting a role a live API key acts with is a 409 role.in_use, until the key is revoked', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  const created = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'support bot', role: 'support' });
  expect(created.status).toBe(201);
  const res = await expectRefused(org, () => org.owner.api('DELETE', `${roles(org)}/support`), 409, 'role.in_use');
  expect(res.body.detail).toContain('1 API key(s)');
  expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/api-keys/${created.body.id}`)).status).toBe(200);
  expect((await org.owner.api('DELETE', `${roles(org)}/support`)).status).toBe(204);
});

test('deleting a role a pending invitation offers is a 409 role.in_use', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  // Written directly: this suite is about roles, not about how invitations are made.
  await t.db.inOrg(org.orgId, (em) => em.execute(
    `INSERT INTO invitations (id, org_id, email, role, token_hash, status, expires_at)
     VALUES (?, ?, 'invitee@example.test', 'support', ?, 'pending', now() + interval '1 day')`,
    [randomUUID(), org.orgId, randomUUID()]));
  const res = await expectRefused(org, () => org.owner.api('DELETE', `${roles(org)}/support`), 409, 'role.in_use');
  expect(res.body.detail).toContain('1 pending invitation(s)');
});

test('deleting a role a SCIM directory gives as its default is a 409 role.in_use, until the directory gives another', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', roles(org), support);
  const directory = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'Okta', defaultRole: 'support' });
  expect(directory.status).toBe(201);
  const res = await expectRefused(org, () => org.owner.api('DELETE', `${roles(org)}/support`), 409, 'role.in_use');
  expect(res.body.detail).toContain('1 SSO connection or directory setting(s)');
  expect((await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/directories/${directory.body.id}`, { defaultRole: 'member' })).status).toBe(200);
  expect((await org.owner.api('DELETE', `${roles(org)}/support`)).status).toBe(204);
});
