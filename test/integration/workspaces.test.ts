import { randomUUID } from 'node:crypto';
import { client, startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { auditEventsOf, refusalsOf, snapshot } from '../helpers/snapshot.ts';

let t: TestApp;
let org: TestOrg;

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

const o = (orgId = org.orgId) => `/api/v1/orgs/${orgId}`;
const limitsPath = (userId: string, orgId = org.orgId) => `${o(orgId)}/members/${userId}/workspaces`;

const refused = refusalsOf(() => t);
function expectRefused(orgId: string, request: () => Promise<{ status: number; body: any }>, status: number, code: string) {
  return refused({ orgId }, request, status, code);
}

async function newWorkspace(owner = org.owner, orgId = org.orgId, name = `ws ${randomUUID().slice(0, 8)}`): Promise<string> {
  const res = await owner.api('POST', `${o(orgId)}/workspaces`, { name });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('workspaces', () => {
  test('create, list, get, rename and delete, each audited', async () => {
    const created = await org.owner.api('POST', `${o()}/workspaces`, { name: '  Production  ' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), name: 'Production', createdAt: expect.any(String), updatedAt: expect.any(String) });
    const id = created.body.id;
    const list = await org.owner.api('GET', `${o()}/workspaces?limit=200`);
    expect(list.body.data).toContainEqual(created.body);
    expect((await org.owner.api('GET', `${o()}/workspaces/${id}`)).body).toEqual(created.body);
    const renamed = await org.owner.api('PATCH', `${o()}/workspaces/${id}`, { name: 'Prod' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Prod');
    expect((await org.owner.api('DELETE', `${o()}/workspaces/${id}`)).status).toBe(204);
    expect((await org.owner.api('GET', `${o()}/workspaces/${id}`)).status).toBe(404);
    const events = await t.db.inOrg(org.orgId, (em) => em.execute<{ type: string }[]>('SELECT type FROM audit_events WHERE target_id = ? ORDER BY seq', [id]));
    expect(events.map((e) => e.type)).toEqual(['workspace.created', 'workspace.updated', 'workspace.deleted']);
  });

  test('a duplicate name answers 409, ignoring case, on create and on rename, and changes nothing', async () => {
    const name = `Staging ${randomUUID().slice(0, 6)}`;
    await newWorkspace(org.owner, org.orgId, name);
    const other = await newWorkspace();
    await expectRefused(org.orgId, () => org.owner.api('POST', `${o()}/workspaces`, { name: name.toUpperCase() }), 409, 'workspace.exists');
    await expectRefused(org.orgId, () => org.owner.api('PATCH', `${o()}/workspaces/${other}`, { name: name.toLowerCase() }), 409, 'workspace.exists');
  });

  test('the same name in another org is fine', async () => {
    const name = `Shared ${randomUUID().slice(0, 6)}`;
    const other = await createOrg(t);
    await newWorkspace(org.owner, org.orgId, name);
    await newWorkspace(other.owner, other.orgId, name);
  });

  test('members and viewers (no workspaces:manage) cannot create, rename or delete: 403, nothing changed; they can read', async () => {
    const id = await newWorkspace();
    for (const role of ['member', 'viewer']) {
      const someone = await addMember(t, org.orgId, role);
      await expectRefused(org.orgId, () => someone.api('POST', `${o()}/workspaces`, { name: `by ${role}` }), 403, 'auth.forbidden');
      await expectRefused(org.orgId, () => someone.api('PATCH', `${o()}/workspaces/${id}`, { name: `by ${role}` }), 403, 'auth.forbidden');
      await expectRefused(org.orgId, () => someone.api('DELETE', `${o()}/workspaces/${id}`), 403, 'auth.forbidden');
      expect((await someone.api('GET', `${o()}/workspaces/${id}`)).status).toBe(200);
    }
  });

  test('another org\'s workspace id answers 404 and changes nothing there', async () => {
    const id = await newWorkspace();
    const intruder = await createOrg(t);
    const before = await snapshot(t, org.orgId);
    for (const [method, body] of [['GET', undefined], ['PATCH', { name: 'Hijacked' }], ['DELETE', undefined]] as const) {
      const res = await intruder.owner.api(method, `${o(intruder.orgId)}/workspaces/${id}`, body);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('workspace.not_found');
    }
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('an admin limited to some workspaces cannot rename or delete others (403, nothing changed)', async () => {
    const [mine, theirs] = [await newWorkspace(), await newWorkspace()];
    const admin = await addMember(t, org.orgId, 'admin');
    await org.owner.api('PUT', limitsPath(admin.userId), { workspaceIds: [mine] });
    await expectRefused(org.orgId, () => admin.api('PATCH', `${o()}/workspaces/${theirs}`, { name: 'taken over' }), 403, 'workspace.above_caller');
    await expectRefused(org.orgId, () => admin.api('DELETE', `${o()}/workspaces/${theirs}`), 403, 'workspace.above_caller');
    expect((await admin.api('PATCH', `${o()}/workspaces/${mine}`, { name: `mine ${randomUUID().slice(0, 6)}` })).status).toBe(200);
  });

  test('bad input answers 400 and changes nothing', async () => {
    await expectRefused(org.orgId, () => org.owner.api('POST', `${o()}/workspaces`, { name: '   ' }), 400, 'request.invalid');
    await expectRefused(org.orgId, () => org.owner.api('POST', `${o()}/workspaces`, { name: 'x', orgId: randomUUID() }), 400, 'request.invalid');
    await expectRefused(org.orgId, () => org.owner.api('GET', `${o()}/workspaces/not-a-uuid`), 400, 'request.invalid');
  });
});

describe('member limits', () => {
  test('set to a list, to none, and cleared to every workspace; each change audited', async () => {
    const [a, b] = [await newWorkspace(), await newWorkspace()];
    const member = await addMember(t, org.orgId, 'member');
    expect((await org.owner.api('GET', limitsPath(member.userId))).body).toEqual({ limited: false, workspaceIds: null });
    const set = await org.owner.api('PUT', limitsPath(member.userId), { workspaceIds: [b, a, a] });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ limited: true, workspaceIds: [a, b].sort() });
    expect((await org.owner.api('GET', limitsPath(member.userId))).body).toEqual(set.body);
    expect((await org.owner.api('PUT', limitsPath(member.userId), { workspaceIds: [] })).body).toEqual({ limited: true, workspaceIds: [] });
    expect((await org.owner.api('PUT', limitsPath(member.userId), { workspaceIds: null })).body).toEqual({ limited: false, workspaceIds: null });
    const rows = await t.db.inOrg(org.orgId, (em) => em.execute('SELECT 1 FROM workspace_members WHERE user_id = ?', [member.userId]));
    expect(rows).toEqual([]);
    const events = (await auditEventsOf(t, org.orgId, 'member.workspaces_changed')).filter((e) => e.target_id === member.userId);
    expect(events.map((e) => [e.before, e.after])).toEqual([
      [{ limited: false, workspaceIds: null }, { limited: true, workspaceIds: [a, b].sort() }],
      [{ limited: true, workspaceIds: [a, b].sort() }, { limited: true, workspaceIds: [] }],
      [{ limited: true, workspaceIds: [] }, { limited: false, workspaceIds: null }],
    ]);
  });

  test('unknown or another org\'s workspace ids answer 400 naming the index, and change nothing', async () => {
    const mine = await newWorkspace();
    const other = await createOrg(t);
    const foreign = await newWorkspace(other.owner, other.orgId);
    const member = await addMember(t, org.orgId, 'member');
    const res = await expectRefused(org.orgId, () => org.owner.api('PUT', limitsPath(member.userId), { workspaceIds: [mine, foreign, randomUUID()] }), 400, 'request.invalid');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.workspaceIds.1', 'body.workspaceIds.2']);
  });

  test('members and viewers cannot change limits: 403, nothing changed', async () => {
    const target = await addMember(t, org.orgId, 'viewer');
    for (const role of ['member', 'viewer']) {
      const someone = await addMember(t, org.orgId, role);
      await expectRefused(org.orgId, () => someone.api('PUT', limitsPath(target.userId), { workspaceIds: [] }), 403, 'auth.forbidden');
    }
  });

  test('an admin cannot limit the owner: 403, nothing changed', async () => {
    const admin = await addMember(t, org.orgId, 'admin');
    await expectRefused(org.orgId, () => admin.api('PUT', limitsPath(org.owner.userId), { workspaceIds: [] }), 403, 'member.above_caller');
  });

  test('an admin limited to some workspaces gives nobody reach beyond them', async () => {
    const [a, b] = [await newWorkspace(), await newWorkspace()];
    const admin = await addMember(t, org.orgId, 'admin');
    const member = await addMember(t, org.orgId, 'member');
    await org.owner.api('PUT', limitsPath(admin.userId), { workspaceIds: [a] });
    await expectRefused(org.orgId, () => admin.api('PUT', limitsPath(member.userId), { workspaceIds: [b] }), 403, 'workspace.above_caller');
    await expectRefused(org.orgId, () => admin.api('PUT', limitsPath(member.userId), { workspaceIds: null }), 403, 'workspace.above_caller');
    expect((await admin.api('PUT', limitsPath(member.userId), { workspaceIds: [a] })).status).toBe(200);
  });

  test('a user of another org answers 404', async () => {
    const other = await createOrg(t);
    await expectRefused(org.orgId, () => org.owner.api('PUT', limitsPath(other.owner.userId), { workspaceIds: null }), 404, 'member.not_found');
    expect((await org.owner.api('GET', limitsPath(other.owner.userId))).status).toBe(404);
  });
});

describe('deleting a workspace', () => {
  test('deletes the keys and service accounts bound to it: the key gets 401 at once, and each is audited as revoked', async () => {
    const id = await newWorkspace();
    const key = await org.owner.api('POST', `${o()}/api-keys`, { name: 'bound', role: 'viewer', workspaceId: id });
    const unbound = await org.owner.api('POST', `${o()}/api-keys`, { name: 'unbound', role: 'viewer' });
    const account = await org.owner.api('POST', `${o()}/service-accounts`, { name: 'bound robot', role: 'viewer', workspaceId: id });
    expect([key.status, account.status]).toEqual([201, 201]);
    const bound = client(t.url, key.body.key);
    expect((await bound('GET', o())).status).toBe(200);
    expect((await org.owner.api('DELETE', `${o()}/workspaces/${id}`)).status).toBe(204);
    expect((await bound('GET', o())).status).toBe(401);
    expect((await client(t.url, unbound.body.key)('GET', o())).status).toBe(200);
    const rows = await t.db.inOrg(org.orgId, (em) => em.execute(
      'SELECT id FROM api_keys WHERE id = ? UNION ALL SELECT id::text FROM service_accounts WHERE id = ?', [key.body.id, account.body.id]));
    expect(rows).toEqual([]);
    const [deleted] = (await auditEventsOf(t, org.orgId, 'workspace.deleted')).filter((e) => e.target_id === id);
    expect(deleted!.before).toMatchObject({ id, apiKeys: [key.body.id], serviceAccounts: [account.body.id] });
    const keyRevoked = (await auditEventsOf(t, org.orgId, 'api_key.revoked')).filter((e) => e.target_id === key.body.id);
    expect(keyRevoked.map((e) => e.after.reason)).toEqual(['workspace_deleted']);
    const accountRevoked = (await auditEventsOf(t, org.orgId, 'service_account.revoked')).filter((e) => e.target_id === account.body.id);
    expect(accountRevoked.map((e) => e.after.reason)).toEqual(['workspace_deleted']);
  });

  test('members limited to it lose it and stay limited (never widened to every workspace)', async () => {
    const [a, b] = [await newWorkspace(), await newWorkspace()];
    const member = await addMember(t, org.orgId, 'member');
    await org.owner.api('PUT', limitsPath(member.userId), { workspaceIds: [a, b] });
    await org.owner.api('DELETE', `${o()}/workspaces/${a}`);
    expect((await org.owner.api('GET', limitsPath(member.userId))).body).toEqual({ limited: true, workspaceIds: [b] });
    await org.owner.api('DELETE', `${o()}/workspaces/${b}`);
    expect((await org.owner.api('GET', limitsPath(member.userId))).body).toEqual({ limited: true, workspaceIds: [] });
  });
});
