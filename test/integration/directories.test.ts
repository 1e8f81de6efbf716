import { randomUUID } from 'node:crypto';
import { authenticateDirectory } from '../../src/modules/directories/directory-token.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, createUser, type TestOrg } from '../helpers/factories.ts';
import { auditEventsOf, refusalsOf } from '../helpers/snapshot.ts';

// The directories management API (issue 5 item 1) and the SCIM bearer token it issues. The SCIM
// edge is built elsewhere: directory groups and users are inserted here directly, in the org.
let t: TestApp;
let a: TestOrg;

beforeAll(async () => {
  t = await startApp();
  a = await createOrg(t);
});
afterAll(() => t.close());

const expectRefused = refusalsOf(() => t);
const path = (org: TestOrg, rest = '') => `/api/v1/orgs/${org.orgId}/directories${rest}`;
const auth = (directoryId: string, token: string) =>
  authenticateDirectory({ db: t.db, apiKeyTokens: t.app.services.apiKeyTokens }, directoryId, token);

async function create(org: TestOrg, defaultRole = 'member') {
  const res = await org.owner.api('POST', path(org), { name: `Okta ${randomUUID().slice(0, 6)}`, defaultRole });
  expect(res.status).toBe(201);
  return res.body as { id: string; token: string; name: string };
}

/** A group as the IdP would have pushed it, with `members` new directory users in it. */
async function insertGroup(orgId: string, directoryId: string, members = 0): Promise<{ groupId: string; userIds: string[] }> {
  const groupId = randomUUID();
  const userIds: string[] = [];
  for (let i = 0; i < members; i++) userIds.push((await createUser(t)).id);
  await t.db.inOrg(orgId, async (em) => {
    await em.execute('INSERT INTO directory_groups (id, org_id, directory_id, display_name) VALUES (?, ?, ?, ?)', [groupId, orgId, directoryId, `Group ${groupId.slice(0, 6)}`]);
    for (const userId of userIds) {
      const id = randomUUID();
      await em.execute(`INSERT INTO memberships (id, org_id, user_id, role, source) VALUES (?, ?, ?, 'member', 'scim')`, [randomUUID(), orgId, userId]);
      await em.execute(`INSERT INTO directory_users (id, org_id, directory_id, user_id, user_name, resource) VALUES (?, ?, ?, ?, ?, '{}')`, [id, orgId, directoryId, userId, `u-${id}`]);
      await em.execute('INSERT INTO directory_group_members (org_id, group_id, directory_user_id) VALUES (?, ?, ?)', [orgId, groupId, id]);
    }
  });
  return { groupId, userIds };
}

const roleOf = (orgId: string, userId: string) =>
  t.db.inOrg(orgId, async (em) => (await em.execute<{ role: string }[]>('SELECT role FROM memberships WHERE user_id = ?', [userId]))[0]?.role);

test('create shows the token once; get and list never do; the token authenticates its directory', async () => {
  const res = await a.owner.api('POST', path(a), { name: 'Okta', defaultRole: 'member' });
  expect(res.status).toBe(201);
  const { id, token } = res.body;
  expect(res.body).toEqual({
    id: expect.any(String), name: 'Okta', defaultRole: 'member', scimBaseUrl: `${t.config.publicUrl}/scim/v2/${id}`,
    token: expect.stringMatching(/^ghscim_[0-9a-f]{48}$/), tokenActive: true, tokenCreatedAt: expect.any(String), disabledByPlan: false,
    createdAt: expect.any(String), updatedAt: expect.any(String),
  });
  const got = await a.owner.api('GET', path(a, `/${id}`));
  expect(got.status).toBe(200);
  const { token: _shown, ...view } = res.body;
  expect(got.body).toEqual(view);
  const list = await a.owner.api('GET', path(a, '?limit=200'));
  expect(list.body.data).toContainEqual(view);
  expect(got.text + list.text).not.toContain(token);
  expect(await auth(id, token)).toEqual({ directoryId: id, orgId: a.orgId, defaultRole: 'member' });
  const [event] = (await auditEventsOf(t, a.orgId, 'directory.created')).filter((e) => e.target_id === id);
  expect(event!.after).toEqual({ name: 'Okta', defaultRole: 'member' });
  const stored = await t.db.inOrg(a.orgId, (em) => em.execute<{ token_hash: string }[]>('SELECT token_hash FROM directories WHERE id = ?', [id]));
  expect(stored[0]!.token_hash).not.toContain(token.slice(7));
});

test('rotating: the new token is shown once and works; the old one is refused at once', async () => {
  const dir = await create(a);
  const res = await a.owner.api('POST', path(a, `/${dir.id}/token`));
  expect(res.status).toBe(201);
  expect(res.body).toEqual({ token: expect.stringMatching(/^ghscim_[0-9a-f]{48}$/), tokenCreatedAt: expect.any(String) });
  expect(await auth(dir.id, dir.token)).toBeNull();
  expect(await auth(dir.id, res.body.token)).toMatchObject({ directoryId: dir.id, orgId: a.orgId });
  expect((await auditEventsOf(t, a.orgId, 'directory.token_rotated')).filter((e) => e.target_id === dir.id)).toHaveLength(1);
  expect(JSON.stringify(await auditEventsOf(t, a.orgId, 'directory.token_rotated'))).not.toContain(res.body.token);
});

test('revoking: the token is refused, the directory says no token is active, rotating issues a new one', async () => {
  const dir = await create(a);
  expect((await a.owner.api('DELETE', path(a, `/${dir.id}/token`))).status).toBe(204);
  expect(await auth(dir.id, dir.token)).toBeNull();
  expect((await a.owner.api('GET', path(a, `/${dir.id}`))).body).toMatchObject({ tokenActive: false, tokenCreatedAt: null });
  expect((await a.owner.api('DELETE', path(a, `/${dir.id}/token`))).status).toBe(204);
  expect((await auditEventsOf(t, a.orgId, 'directory.token_revoked')).filter((e) => e.target_id === dir.id)).toHaveLength(1);
  const again = await a.owner.api('POST', path(a, `/${dir.id}/token`));
  expect(await auth(dir.id, again.body.token)).not.toBeNull();
});

test('another directory\'s token, a malformed token, an unknown or malformed directory id: refused', async () => {
  const one = await create(a);
  const other = await create(await createOrg(t));
  expect(await auth(one.id, other.token)).toBeNull();
  expect(await auth(other.id, one.token)).toBeNull();
  for (const bad of ['', 'ghscim_', `ghscim_${'0'.repeat(48)}`, one.token.toUpperCase(), `${one.token}0`, one.token.slice(7), ` ${one.token}`]) {
    expect(await auth(one.id, bad)).toBeNull();
  }
  expect(await auth(randomUUID(), one.token)).toBeNull();
  expect(await auth('not-a-uuid', one.token)).toBeNull();
  expect(await auth(`${one.id}' OR '1'='1`, one.token)).toBeNull();
  // An org API key's secret under the SCIM prefix: the hash is keyed per kind.
  const apiSecret = a.owner.key.split('_')[2]!;
  expect(await auth(one.id, `ghscim_${apiSecret}`)).toBeNull();
});

test('bad directories are refused and change nothing: owner, unknown role, empty name, unknown field', async () => {
  await expectRefused(a, () => a.owner.api('POST', path(a), { name: 'X', defaultRole: 'owner' }), 422, 'directory.owner_role');
  const unknown = await expectRefused(a, () => a.owner.api('POST', path(a), { name: 'X', defaultRole: 'nobody' }), 400, 'request.invalid');
  expect(unknown.body.errors).toEqual([{ field: 'body.defaultRole', message: 'unknown role "nobody"' }]);
  await expectRefused(a, () => a.owner.api('POST', path(a), { name: '  ', defaultRole: 'member' }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('POST', path(a), { name: 'X', defaultRole: 'member', token: 'mine' }), 400, 'request.invalid');
  const dir = await create(a);
  await expectRefused(a, () => a.owner.api('PATCH', path(a, `/${dir.id}`), { defaultRole: 'owner' }), 422, 'directory.owner_role');
  await expectRefused(a, () => a.owner.api('PATCH', path(a, `/${dir.id}`), { defaultRole: 'nobody' }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('PATCH', path(a, `/${dir.id}`), { name: '' }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('GET', path(a, `/${randomUUID()}`)), 404, 'directory.not_found');
});

test('a custom role can be the default; renaming is audited without the token', async () => {
  const key = `sup-${randomUUID().slice(0, 6)}`;
  expect((await a.owner.api('POST', `/api/v1/orgs/${a.orgId}/roles`, { key, name: 'Support', permissions: ['org:read'] })).status).toBe(201);
  const dir = await create(a, key);
  const res = await a.owner.api('PATCH', path(a, `/${dir.id}`), { name: 'Entra' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ name: 'Entra', defaultRole: key, tokenActive: true });
  const [event] = (await auditEventsOf(t, a.orgId, 'directory.updated')).filter((e) => e.target_id === dir.id);
  expect(event).toMatchObject({ before: { name: dir.name, defaultRole: key }, after: { name: 'Entra', defaultRole: key } });
});

test('members and viewers lack directories:manage: 403 everywhere, nothing changed; admins have it', async () => {
  const dir = await create(a);
  for (const role of ['member', 'viewer']) {
    const { api } = await addMember(t, a.orgId, role);
    const calls = [
      () => api('POST', path(a), { name: 'X', defaultRole: 'member' }),
      () => api('GET', path(a)),
      () => api('GET', path(a, `/${dir.id}`)),
      () => api('PATCH', path(a, `/${dir.id}`), { name: 'X' }),
      () => api('POST', path(a, `/${dir.id}/token`)),
      () => api('DELETE', path(a, `/${dir.id}/token`)),
      () => api('GET', path(a, `/${dir.id}/users`)),
      () => api('GET', path(a, `/${dir.id}/rules`)),
      () => api('DELETE', path(a, `/${dir.id}`)),
    ];
    for (const call of calls) await expectRefused(a, call, 403, 'auth.forbidden');
  }
  const admin = await addMember(t, a.orgId, 'admin');
  expect((await admin.api('GET', path(a, `/${dir.id}`))).status).toBe(200);
  await expectRefused(a, () => admin.api('POST', path(a), { name: 'X', defaultRole: 'owner' }), 422, 'directory.owner_role');
});

test('directories:manage alone cannot set up or steer a directory: its token would add, re-role and remove members', async () => {
  const dir = await create(a);
  const role = `dirs-${randomUUID().slice(0, 6)}`;
  expect((await a.owner.api('POST', `/api/v1/orgs/${a.orgId}/roles`, { key: role, name: 'Directories only', permissions: ['org:read', 'directories:manage'] })).status).toBe(201);
  const { api } = await addMember(t, a.orgId, role);
  expect((await api('GET', path(a, `/${dir.id}`))).status).toBe(200);
  for (const call of [
    () => api('POST', path(a), { name: 'X', defaultRole: 'viewer' }),
    () => api('PATCH', path(a, `/${dir.id}`), { defaultRole: 'viewer' }),
    () => api('POST', path(a, `/${dir.id}/token`)),
  ]) await expectRefused(a, call, 403, 'auth.forbidden');
});

test('rules: a group of another directory, an unknown team or role, owner: refused, nothing changed; a duplicate is 409', async () => {
  const dir = await create(a);
  const other = await create(a);
  const { groupId } = await insertGroup(a.orgId, dir.id);
  const { groupId: otherGroup } = await insertGroup(a.orgId, other.id);
  const rules = path(a, `/${dir.id}/rules`);
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId: otherGroup, role: 'admin' }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId: randomUUID(), role: 'admin' }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId, teamId: randomUUID() }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId, role: 'nobody' }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId, role: 'owner' }), 422, 'directory.owner_role');
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId, role: 'admin', teamId: randomUUID() }), 400, 'request.invalid');
  const team = await a.owner.api('POST', `/api/v1/orgs/${a.orgId}/teams`, { name: `Eng ${randomUUID()}` });
  const byRole = await a.owner.api('POST', rules, { groupId, role: 'admin' });
  expect(byRole.status).toBe(201);
  expect(byRole.body).toMatchObject({ groupId, role: 'admin', teamId: null });
  const byTeam = await a.owner.api('POST', rules, { groupId, teamId: team.body.id });
  expect(byTeam.body).toMatchObject({ groupId, role: null, teamId: team.body.id });
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId, role: 'admin' }), 409, 'directory.rule_exists');
  await expectRefused(a, () => a.owner.api('POST', rules, { groupId, teamId: team.body.id }), 409, 'directory.rule_exists');
  expect((await a.owner.api('GET', rules)).body.data).toEqual([byRole.body, byTeam.body]);
  await expectRefused(a, () => a.owner.api('DELETE', path(a, `/${other.id}/rules/${byRole.body.id}`)), 404, 'directory.rule_not_found');
  expect((await a.owner.api('DELETE', path(a, `/${dir.id}/rules/${byRole.body.id}`))).status).toBe(204);
  expect((await auditEventsOf(t, a.orgId, 'directory.rule_removed')).filter((e) => e.before.ruleId === byRole.body.id)).toHaveLength(1);
});

test('users and groups the IdP pushed are listed; deleting the directory takes them and keeps memberships', async () => {
  const dir = await create(a);
  const { groupId, userIds } = await insertGroup(a.orgId, dir.id, 2);
  const groups = await a.owner.api('GET', path(a, `/${dir.id}/groups`));
  expect(groups.body).toEqual({ data: [{ id: groupId, displayName: expect.any(String), externalId: null, memberCount: 2 }], nextCursor: null });
  const users = await a.owner.api('GET', path(a, `/${dir.id}/users?limit=1`));
  expect(users.body.data).toEqual([expect.objectContaining({ userId: expect.any(String), active: true, email: null })]);
  expect(users.body.nextCursor).toEqual(expect.any(String));
  expect((await a.owner.api('DELETE', path(a, `/${dir.id}`))).status).toBe(204);
  await expectRefused(a, () => a.owner.api('GET', path(a, `/${dir.id}/groups`)), 404, 'directory.not_found');
  expect(await auth(dir.id, dir.token)).toBeNull();
  const left = await t.db.inOrg(a.orgId, (em) => em.execute('SELECT 1 FROM directory_users WHERE directory_id = ?', [dir.id]));
  expect(left).toHaveLength(0);
  for (const userId of userIds) expect(await roleOf(a.orgId, userId)).toBe('member');
  expect((await auditEventsOf(t, a.orgId, 'directory.deleted')).filter((e) => e.target_id === dir.id)).toHaveLength(1);
});

test('org B cannot put a rule on org A\'s group, nor see org A\'s directory: nothing changed in either', async () => {
  const b = await createOrg(t);
  const mine = await create(a);
  const { groupId } = await insertGroup(a.orgId, mine.id);
  const theirs = await create(b);
  await expectRefused(a, () => b.owner.api('POST', path(b, `/${theirs.id}/rules`), { groupId, role: 'admin' }), 400, 'request.invalid');
  await expectRefused(b, () => b.owner.api('POST', path(b, `/${theirs.id}/rules`), { groupId, role: 'admin' }), 400, 'request.invalid');
  await expectRefused(a, () => b.owner.api('GET', path(b, `/${mine.id}/groups`)), 404, 'directory.not_found');
  await expectRefused(a, () => b.owner.api('POST', path(b, `/${mine.id}/token`)), 404, 'directory.not_found');
  expect(await auth(mine.id, mine.token)).toMatchObject({ orgId: a.orgId });
});

// Needs syncDirectoryMembers (src/modules/directory-sync/membership-sync.ts, built in parallel).
test('a role rule and a default-role change re-level the group\'s members in the same request', async () => {
  const dir = await create(a, 'viewer');
  const { groupId, userIds } = await insertGroup(a.orgId, dir.id, 1);
  const rule = await a.owner.api('POST', path(a, `/${dir.id}/rules`), { groupId, role: 'admin' });
  expect(rule.status).toBe(201);
  expect(await roleOf(a.orgId, userIds[0]!)).toBe('admin');
  expect((await a.owner.api('DELETE', path(a, `/${dir.id}/rules/${rule.body.id}`))).status).toBe(204);
  expect(await roleOf(a.orgId, userIds[0]!)).toBe('viewer');
  expect((await a.owner.api('PATCH', path(a, `/${dir.id}`), { defaultRole: 'member' })).status).toBe(200);
  expect(await roleOf(a.orgId, userIds[0]!)).toBe('member');
});
