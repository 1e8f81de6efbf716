import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, createUser, type TestMember, type TestOrg } from '../helpers/factories.ts';
import { auditEventsOf, refusalsOf, snapshot } from '../helpers/snapshot.ts';

let t: TestApp;

beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

const teams = (org: TestOrg) => `/api/v1/orgs/${org.orgId}/teams`;
const teamMembers = (org: TestOrg, teamId: string) => `${teams(org)}/${teamId}/members`;

const expectRefused = refusalsOf(() => t);
const auditOf = (orgId: string, type: string) => auditEventsOf(t, orgId, type);

async function createTeam(org: TestOrg, name: string): Promise<string> {
  const res = await org.owner.api('POST', teams(org), { name });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function addToTeam(org: TestOrg, teamId: string, who: TestMember, role: 'admin' | 'member'): Promise<void> {
  expect((await org.owner.api('POST', teamMembers(org, teamId), { userId: who.userId, role })).status).toBe(201);
}

test('team CRUD: create, get, list by pages, update and delete, each audited', async () => {
  const org = await createOrg(t);
  const created = await org.owner.api('POST', teams(org), { name: 'Platform', description: 'Runs the platform' });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ name: 'Platform', description: 'Runs the platform' });
  const id = created.body.id;
  const second = await createTeam(org, 'Data');
  expect((await org.owner.api('GET', `${teams(org)}/${id}`)).body).toEqual(created.body);

  const page1 = await org.owner.api('GET', `${teams(org)}?limit=1`);
  expect(page1.body.data.map((x: { id: string }) => x.id)).toEqual([id]);
  const page2 = await org.owner.api('GET', `${teams(org)}?limit=1&cursor=${page1.body.nextCursor}`);
  expect(page2.body).toMatchObject({ data: [{ id: second }], nextCursor: null });

  const updated = await org.owner.api('PATCH', `${teams(org)}/${id}`, { name: 'Infra', description: null });
  expect(updated.status).toBe(200);
  expect(updated.body).toMatchObject({ id, name: 'Infra', description: null });
  expect((await org.owner.api('DELETE', `${teams(org)}/${id}`)).status).toBe(204);
  expect((await org.owner.api('GET', `${teams(org)}/${id}`)).body.code).toBe('team.not_found');

  expect(await auditOf(org.orgId, 'team.created')).toMatchObject([{ target_id: id, after: { name: 'Platform' } }, { target_id: second }]);
  expect(await auditOf(org.orgId, 'team.updated')).toMatchObject([{ before: { name: 'Platform' }, after: { name: 'Infra', description: null } }]);
  expect(await auditOf(org.orgId, 'team.deleted')).toMatchObject([{ target_id: id, before: { name: 'Infra', memberCount: 0 } }]);
});

test('a teams:manage caller adds, re-roles and removes team members, each audited', async () => {
  const org = await createOrg(t);
  const teamId = await createTeam(org, 'Platform');
  const dev = await addMember(t, org.orgId, 'member');
  const added = await org.owner.api('POST', teamMembers(org, teamId), { userId: dev.userId, role: 'member' });
  expect(added.status).toBe(201);
  expect(added.body).toMatchObject({ userId: dev.userId, email: dev.email, role: 'member' });
  const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(added.body).toMatchObject({ joinedAt: iso, updatedAt: iso });
  expect((await dev.api('GET', teamMembers(org, teamId))).body.data).toMatchObject([{ userId: dev.userId, role: 'member', joinedAt: iso }]);
  expect((await org.owner.api('PATCH', `${teamMembers(org, teamId)}/${dev.userId}`, { role: 'admin' })).status).toBe(204);
  expect((await org.owner.api('DELETE', `${teamMembers(org, teamId)}/${dev.userId}`)).status).toBe(204);
  expect((await snapshot(t, org.orgId)).team_members).toEqual([]);

  const change = { teamId, userId: dev.userId };
  expect(await auditOf(org.orgId, 'team.member_added')).toMatchObject([{ target_id: dev.userId, after: { ...change, role: 'member' } }]);
  expect(await auditOf(org.orgId, 'team.member_role_changed')).toMatchObject([{ before: { role: 'member' }, after: { ...change, role: 'admin' } }]);
  expect(await auditOf(org.orgId, 'team.member_removed')).toMatchObject([{ target_id: dev.userId, before: { ...change, role: 'admin' } }]);
});

test('a team admin manages their own team\'s members without teams:manage', async () => {
  const org = await createOrg(t);
  const teamId = await createTeam(org, 'Platform');
  const lead = await addMember(t, org.orgId, 'member');
  const dev = await addMember(t, org.orgId, 'viewer');
  await addToTeam(org, teamId, lead, 'admin');
  expect((await lead.api('POST', teamMembers(org, teamId), { userId: dev.userId, role: 'member' })).status).toBe(201);
  expect((await lead.api('PATCH', `${teamMembers(org, teamId)}/${dev.userId}`, { role: 'admin' })).status).toBe(204);
  expect((await lead.api('DELETE', `${teamMembers(org, teamId)}/${dev.userId}`)).status).toBe(204);
  expect((await snapshot(t, org.orgId)).team_members).toMatchObject([{ row: { user_id: lead.userId, role: 'admin' } }]);
});

test('a team admin cannot manage another team\'s members', async () => {
  const org = await createOrg(t);
  const own = await createTeam(org, 'Platform');
  const other = await createTeam(org, 'Data');
  const lead = await addMember(t, org.orgId, 'member');
  const dev = await addMember(t, org.orgId, 'member');
  await addToTeam(org, own, lead, 'admin');
  await addToTeam(org, other, dev, 'member');
  await expectRefused(org, () => lead.api('POST', teamMembers(org, other), { userId: lead.userId, role: 'admin' }), 403, 'auth.forbidden');
  await expectRefused(org, () => lead.api('PATCH', `${teamMembers(org, other)}/${dev.userId}`, { role: 'admin' }), 403, 'auth.forbidden');
  await expectRefused(org, () => lead.api('DELETE', `${teamMembers(org, other)}/${dev.userId}`), 403, 'auth.forbidden');
});

test('a plain team member cannot manage their own team', async () => {
  const org = await createOrg(t);
  const teamId = await createTeam(org, 'Platform');
  const dev = await addMember(t, org.orgId, 'member');
  const peer = await addMember(t, org.orgId, 'member');
  await addToTeam(org, teamId, dev, 'member');
  await expectRefused(org, () => dev.api('POST', teamMembers(org, teamId), { userId: peer.userId, role: 'member' }), 403, 'auth.forbidden');
  await expectRefused(org, () => dev.api('PATCH', `${teamMembers(org, teamId)}/${dev.userId}`, { role: 'admin' }), 403, 'auth.forbidden');
});

test('team adminship does not reach a credential that cannot read teams', async () => {
  const org = await createOrg(t);
  await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/roles`, { key: 'auditor', name: 'Auditor', permissions: ['audit:read'] });
  const teamId = await createTeam(org, 'Platform');
  const auditor = await addMember(t, org.orgId, 'auditor');
  const dev = await addMember(t, org.orgId, 'member');
  await addToTeam(org, teamId, auditor, 'admin');
  await expectRefused(org, () => auditor.api('POST', teamMembers(org, teamId), { userId: dev.userId, role: 'member' }), 403, 'auth.forbidden');
});

test('without teams:manage nobody creates, renames or deletes teams', async () => {
  const org = await createOrg(t);
  const teamId = await createTeam(org, 'Platform');
  const lead = await addMember(t, org.orgId, 'member');
  await addToTeam(org, teamId, lead, 'admin');
  await expectRefused(org, () => lead.api('POST', teams(org), { name: 'Mine' }), 403, 'auth.forbidden');
  await expectRefused(org, () => lead.api('PATCH', `${teams(org)}/${teamId}`, { name: 'Mine' }), 403, 'auth.forbidden');
  await expectRefused(org, () => lead.api('DELETE', `${teams(org)}/${teamId}`), 403, 'auth.forbidden');
});

test('adding someone who is not a member of the org is 404 member.not_found', async () => {
  const org = await createOrg(t);
  const other = await createOrg(t);
  const outsider = await createUser(t);
  const teamId = await createTeam(org, 'Platform');
  for (const userId of [other.owner.userId, outsider.id, randomUUID()]) {
    await expectRefused(org, () => org.owner.api('POST', teamMembers(org, teamId), { userId, role: 'member' }), 404, 'member.not_found');
  }
});

test('a duplicate team name, in any case, is 409 team.exists', async () => {
  const org = await createOrg(t);
  await createTeam(org, 'Platform');
  const data = await createTeam(org, 'Data');
  await expectRefused(org, () => org.owner.api('POST', teams(org), { name: 'platform' }), 409, 'team.exists');
  await expectRefused(org, () => org.owner.api('PATCH', `${teams(org)}/${data}`, { name: 'PLATFORM' }), 409, 'team.exists');
  // Names are unique per org only.
  const other = await createOrg(t);
  expect((await other.owner.api('POST', teams(other), { name: 'Platform' })).status).toBe(201);
});

test('adding a team member twice is 409 team_member.exists', async () => {
  const org = await createOrg(t);
  const teamId = await createTeam(org, 'Platform');
  const dev = await addMember(t, org.orgId, 'member');
  await addToTeam(org, teamId, dev, 'member');
  await expectRefused(org, () => org.owner.api('POST', teamMembers(org, teamId), { userId: dev.userId, role: 'admin' }), 409, 'team_member.exists');
});

test('bad input is a 400 that changes nothing', async () => {
  const org = await createOrg(t);
  const teamId = await createTeam(org, 'Platform');
  const dev = await addMember(t, org.orgId, 'member');
  await expectRefused(org, () => org.owner.api('POST', teams(org), { name: '  ' }), 400, 'request.invalid');
  await expectRefused(org, () => org.owner.api('POST', teams(org), { name: 'X', orgId: randomUUID() }), 400, 'request.invalid');
  await expectRefused(org, () => org.owner.api('PATCH', `${teams(org)}/${teamId}`, {}), 400, 'request.invalid');
  await expectRefused(org, () => org.owner.api('POST', teamMembers(org, teamId), { userId: dev.userId, role: 'owner' }), 400, 'request.invalid');
  await expectRefused(org, () => org.owner.api('GET', `${teams(org)}/not-a-uuid`), 400, 'request.invalid');
});

test('another org\'s team is 404 team.not_found', async () => {
  const org = await createOrg(t);
  const other = await createOrg(t);
  const theirs = await createTeam(other, 'Platform');
  const before = await snapshot(t, other.orgId);
  expect((await org.owner.api('GET', `${teams(org)}/${theirs}`)).body.code).toBe('team.not_found');
  expect((await org.owner.api('GET', teamMembers(org, theirs))).body.code).toBe('team.not_found');
  expect((await org.owner.api('PATCH', `${teams(org)}/${theirs}`, { name: 'Mine' })).body.code).toBe('team.not_found');
  expect((await org.owner.api('DELETE', `${teams(org)}/${theirs}`)).body.code).toBe('team.not_found');
  expect((await org.owner.api('POST', teamMembers(org, theirs), { userId: org.owner.userId, role: 'admin' })).body.code).toBe('team.not_found');
  expect(await snapshot(t, other.orgId)).toEqual(before);
});

test('a member who leaves the org leaves its teams', async () => {
  const org = await createOrg(t);
  const teamId = await createTeam(org, 'Platform');
  const dev = await addMember(t, org.orgId, 'member');
  await addToTeam(org, teamId, dev, 'member');
  expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${dev.userId}`)).status).toBe(204);
  expect((await org.owner.api('GET', teamMembers(org, teamId))).body.data).toEqual([]);
});
