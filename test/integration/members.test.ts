import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { snapshot } from '../helpers/snapshot.ts';

let t: TestApp;
let org: TestOrg;

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

const members = () => `/api/v1/orgs/${org.orgId}/members`;

test('the owner key lists the org\'s members', async () => {
  const admin = await addMember(t, org.orgId, 'admin');
  const res = await org.owner.api('GET', members());
  expect(res.status).toBe(200);
  expect(res.body.data.map((m: { userId: string }) => m.userId).slice(0, 2)).toEqual([org.owner.userId, admin.userId]);
  expect(res.body.data[0]).toMatchObject({ role: 'owner', source: 'bootstrap', email: org.owner.email });
});

test('cursor pagination walks every member exactly once', async () => {
  const o = await createOrg(t);
  for (let i = 0; i < 6; i++) await addMember(t, o.orgId, 'viewer');
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: { body: { data: { userId: string }[]; nextCursor: string | null } } =
      await o.owner.api('GET', `/api/v1/orgs/${o.orgId}/members?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...res.body.data.map((m) => m.userId));
    cursor = res.body.nextCursor;
  } while (cursor);
  expect(seen).toHaveLength(7);
  expect(new Set(seen).size).toBe(7);
});

test('?role= filters members', async () => {
  const viewer = await addMember(t, org.orgId, 'viewer');
  const res = await org.owner.api('GET', `${members()}?role=viewer&limit=200`);
  expect(res.body.data.map((m: { userId: string }) => m.userId)).toContain(viewer.userId);
  expect(res.body.data.every((m: { role: string }) => m.role === 'viewer')).toBe(true);
});

test('a role change is stored and audited with before and after', async () => {
  const m = await addMember(t, org.orgId, 'member');
  expect((await org.owner.api('PATCH', `${members()}/${m.userId}`, { role: 'viewer' })).status).toBe(204);
  const [event] = await t.db.inOrg(org.orgId, (em) => em.execute<{ before: any; after: any; actor_id: string }[]>(
    `SELECT before, after, actor_id FROM audit_events WHERE type = 'member.role_changed' AND target_id = ?`, [m.userId]));
  expect(event).toMatchObject({ before: { role: 'member' }, after: { role: 'viewer' }, actor_id: org.owner.key.split('_')[1] });
});

test('removing a member deletes the membership and audits it', async () => {
  const m = await addMember(t, org.orgId, 'viewer');
  expect((await org.owner.api('DELETE', `${members()}/${m.userId}`)).status).toBe(204);
  const list = await org.owner.api('GET', `${members()}?limit=200`);
  expect(list.body.data.map((x: { userId: string }) => x.userId)).not.toContain(m.userId);
});

test('a removed member leaves their teams, each removal audited', async () => {
  const m = await addMember(t, org.orgId, 'member');
  const team = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams`, { name: `Team ${m.userId}` });
  await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams/${team.body.id}/members`, { userId: m.userId, role: 'member' });
  expect((await org.owner.api('DELETE', `${members()}/${m.userId}`)).status).toBe(204);
  const teamMembers = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/teams/${team.body.id}/members`);
  expect(teamMembers.body.data).toEqual([]);
  const events = await t.db.inOrg(org.orgId, (em) => em.execute<{ type: string }[]>(
    'SELECT type FROM audit_events WHERE target_id = ? ORDER BY seq', [m.userId]));
  expect(events.map((e) => e.type)).toEqual(['team.member_added', 'team.member_removed', 'member.removed']);
});

describe('bad input changes nothing', () => {
  test('unknown member id answers 404 member.not_found', async () => {
    const before = await snapshot(t, org.orgId);
    const res = await org.owner.api('PATCH', `${members()}/00000000-0000-7000-8000-000000000000`, { role: 'viewer' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('member.not_found');
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('malformed member id answers 400', async () => {
    const res = await org.owner.api('DELETE', `${members()}/42`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('params.userId');
  });

  test('unknown role answers 400 and changes nothing', async () => {
    const m = await addMember(t, org.orgId, 'member');
    const before = await snapshot(t, org.orgId);
    const res = await org.owner.api('PATCH', `${members()}/${m.userId}`, { role: 'emperor' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body.role', message: 'unknown role "emperor"' }]);
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('missing role answers 400', async () => {
    const m = await addMember(t, org.orgId, 'member');
    const res = await org.owner.api('PATCH', `${members()}/${m.userId}`, {});
    expect(res.status).toBe(400);
  });

  test('a bad cursor answers 400', async () => {
    const res = await org.owner.api('GET', `${members()}?cursor=%%%`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.cursor');
  });

  test('a well-formed cursor that is not an id answers 400, not 500', async () => {
    const res = await org.owner.api('GET', `${members()}?cursor=${Buffer.from('abc').toString('base64url')}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.cursor');
  });

  test('limit out of range answers 400', async () => {
    const res = await org.owner.api('GET', `${members()}?limit=5000`);
    expect(res.status).toBe(400);
  });

  test('an unknown query parameter answers 400', async () => {
    const res = await org.owner.api('GET', `${members()}?sort=email`);
    expect(res.status).toBe(400);
  });

  test('a body on DELETE answers 400', async () => {
    const m = await addMember(t, org.orgId, 'viewer');
    const before = await snapshot(t, org.orgId);
    const res = await org.owner.api('DELETE', `${members()}/${m.userId}`, { force: true });
    expect(res.status).toBe(400);
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });
});
