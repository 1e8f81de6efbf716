import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkspacesRepository } from '../../src/modules/workspaces/workspaces.repository.ts';
import { client, startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestMember, type TestOrg } from '../helpers/factories.ts';
import { refusalsOf } from '../helpers/snapshot.ts';

// POST /api/v1/authorize: decisions for upstream services' object-level checks.
const policy = `permissions:
  agents:read: [owner, admin, member, viewer]
  agents:write: [owner, admin]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:write
`;

let t: TestApp;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-authorize-'));
  writeFileSync(join(dir, 'routes.yaml'), policy);
  t = await startApp({ GATEHOUSE_ROUTES: join(dir, 'routes.yaml') });
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const expectRefused = refusalsOf(() => t);
const keyIdOf = (key: string) => key.split('_')[1]!;

type Subject = { type: 'user' | 'api_key' | 'service_account'; id: string };
type Extra = { workspaceId?: string; teamId?: string };

/** The decision the org's owner (a members:read caller) gets. */
async function decide(org: TestOrg, subject: Subject, permission: string, extra: Extra = {}) {
  const res = await org.owner.api('POST', '/api/v1/authorize', { orgId: org.orgId, subject, permission, ...extra });
  expect(res.status).toBe(200);
  return res.body as { allowed: boolean; reason: string; role: string | null };
}
const user = (m: TestMember): Subject => ({ type: 'user', id: m.userId });

async function workspace(org: TestOrg, name: string): Promise<string> {
  const w = await t.db.inOrg(org.orgId, (em) => new WorkspacesRepository(em).create({ orgId: org.orgId, name }));
  return w.id;
}
async function limitTo(org: TestOrg, m: TestMember, workspaceIds: string[]): Promise<void> {
  await t.db.inOrg(org.orgId, (em) => new WorkspacesRepository(em).setLimits(org.orgId, m.userId, workspaceIds));
}
async function bindKey(org: TestOrg, key: string, workspaceId: string): Promise<void> {
  await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE api_keys SET workspace_id = ? WHERE id = ?', [workspaceId, keyIdOf(key)]));
}

describe('by role', () => {
  test('a member may read agents but not write them; an admin may do both (the policy\'s built-in roles)', async () => {
    const org = await createOrg(t);
    const member = await addMember(t, org.orgId, 'member');
    const admin = await addMember(t, org.orgId, 'admin');
    expect(await decide(org, user(member), 'agents:read')).toEqual({ allowed: true, reason: 'allowed', role: 'member' });
    expect(await decide(org, user(member), 'agents:write')).toEqual({ allowed: false, reason: 'permission_not_held', role: 'member' });
    expect(await decide(org, user(admin), 'agents:write')).toEqual({ allowed: true, reason: 'allowed', role: 'admin' });
  });

  test('Gatehouse\'s own permissions are decided too', async () => {
    const org = await createOrg(t);
    const viewer = await addMember(t, org.orgId, 'viewer');
    expect(await decide(org, user(viewer), 'members:read')).toMatchObject({ allowed: true });
    expect(await decide(org, user(viewer), 'members:invite')).toMatchObject({ allowed: false, reason: 'permission_not_held' });
  });

  test('a product permission through a custom role', async () => {
    const org = await createOrg(t);
    expect((await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/roles`, { key: 'operator', name: 'Operator', permissions: ['agents:write'] })).status).toBe(201);
    const operator = await addMember(t, org.orgId, 'operator');
    expect(await decide(org, user(operator), 'agents:write')).toEqual({ allowed: true, reason: 'allowed', role: 'operator' });
    expect(await decide(org, user(operator), 'agents:read')).toMatchObject({ allowed: false, reason: 'permission_not_held' });
  });

  test('a permission neither Gatehouse nor the policy knows is never allowed', async () => {
    const org = await createOrg(t);
    expect(await decide(org, user(org.owner), 'agents:delete')).toEqual({ allowed: false, reason: 'unknown_permission', role: 'owner' });
  });

  test('the role as of now: a demoted member loses the permission at once', async () => {
    const org = await createOrg(t);
    const admin = await addMember(t, org.orgId, 'admin');
    expect((await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, { role: 'member' })).status).toBe(204);
    expect(await decide(org, user(admin), 'agents:write')).toEqual({ allowed: false, reason: 'permission_not_held', role: 'member' });
  });
});

describe('subjects', () => {
  test('an unknown user, another org\'s member and a removed member are not active: allowed false, no role, not a 404', async () => {
    const org = await createOrg(t);
    const other = await createOrg(t);
    const removed = await addMember(t, org.orgId, 'member');
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${removed.userId}`)).status).toBe(204);
    for (const id of [randomUUID(), other.owner.userId, removed.userId]) {
      expect(await decide(org, { type: 'user', id }, 'agents:read')).toEqual({ allowed: false, reason: 'subject_not_active', role: null });
    }
  });

  test('an API key acts with its role within its creator\'s', async () => {
    const org = await createOrg(t);
    const admin = await addMember(t, org.orgId, 'admin');
    const key = { type: 'api_key' as const, id: keyIdOf(admin.key) };
    expect(await decide(org, key, 'agents:write')).toEqual({ allowed: true, reason: 'allowed', role: 'admin' });
    // The creator demoted: the admin key is held to the member's rights.
    await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, { role: 'member' });
    expect(await decide(org, key, 'agents:write')).toEqual({ allowed: false, reason: 'permission_not_held', role: 'admin' });
    expect(await decide(org, key, 'agents:read')).toMatchObject({ allowed: true });
  });

  test('a revoked API key, an expired one and another org\'s are not active', async () => {
    const org = await createOrg(t);
    const other = await createOrg(t);
    const member = await addMember(t, org.orgId, 'member');
    const expiring = await addMember(t, org.orgId, 'member');
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/api-keys/${keyIdOf(member.key)}`)).status).toBe(200);
    await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE api_keys SET expires_at = now() - interval \'1 minute\' WHERE id = ?', [keyIdOf(expiring.key)]));
    for (const key of [member.key, expiring.key, other.owner.key]) {
      expect(await decide(org, { type: 'api_key', id: keyIdOf(key) }, 'agents:read')).toEqual({ allowed: false, reason: 'subject_not_active', role: null });
    }
  });

  test('a service account acts with its role until revoked', async () => {
    const org = await createOrg(t);
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'deployer', role: 'admin' });
    expect(sa.status).toBe(201);
    const subject = { type: 'service_account' as const, id: sa.body.id };
    expect(await decide(org, subject, 'agents:write')).toEqual({ allowed: true, reason: 'allowed', role: 'admin' });
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/service-accounts/${sa.body.id}`)).status).toBe(200);
    expect(await decide(org, subject, 'agents:write')).toEqual({ allowed: false, reason: 'subject_not_active', role: null });
  });
});

describe('team-owned resources', () => {
  test('a team member may, a non-member may not, an admin (teams:manage) may; an API key counts as its creator', async () => {
    const org = await createOrg(t);
    const inTeam = await addMember(t, org.orgId, 'member');
    const outside = await addMember(t, org.orgId, 'member');
    const admin = await addMember(t, org.orgId, 'admin');
    const team = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams`, { name: 'Platform' });
    expect((await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams/${team.body.id}/members`, { userId: inTeam.userId, role: 'member' })).status).toBe(201);
    const teamId = team.body.id as string;
    expect(await decide(org, user(inTeam), 'agents:read', { teamId })).toEqual({ allowed: true, reason: 'allowed', role: 'member' });
    expect(await decide(org, user(outside), 'agents:read', { teamId })).toEqual({ allowed: false, reason: 'not_team_member', role: 'member' });
    expect(await decide(org, user(admin), 'agents:read', { teamId })).toMatchObject({ allowed: true });
    expect(await decide(org, { type: 'api_key', id: keyIdOf(inTeam.key) }, 'agents:read', { teamId })).toMatchObject({ allowed: true });
    expect(await decide(org, { type: 'api_key', id: keyIdOf(outside.key) }, 'agents:read', { teamId })).toMatchObject({ allowed: false, reason: 'not_team_member' });
    // The team does not give a permission the role lacks.
    expect(await decide(org, user(inTeam), 'agents:write', { teamId })).toMatchObject({ allowed: false, reason: 'permission_not_held' });
  });

  test('another org\'s team is not found, even for its owner\'s admin', async () => {
    const org = await createOrg(t);
    const other = await createOrg(t);
    const team = await other.owner.api('POST', `/api/v1/orgs/${other.orgId}/teams`, { name: 'Theirs' });
    expect(await decide(org, user(org.owner), 'agents:read', { teamId: team.body.id })).toEqual({ allowed: false, reason: 'team_not_found', role: 'owner' });
  });
});

describe('workspaces', () => {
  test('a member limited to some workspaces reaches only those; an unlimited one reaches all', async () => {
    const org = await createOrg(t);
    const prod = await workspace(org, 'production');
    const staging = await workspace(org, 'staging');
    const limited = await addMember(t, org.orgId, 'member');
    const free = await addMember(t, org.orgId, 'member');
    await limitTo(org, limited, [staging]);
    expect(await decide(org, user(limited), 'agents:read', { workspaceId: staging })).toMatchObject({ allowed: true });
    expect(await decide(org, user(limited), 'agents:read', { workspaceId: prod })).toEqual({ allowed: false, reason: 'workspace_not_reachable', role: 'member' });
    expect(await decide(org, user(free), 'agents:read', { workspaceId: prod })).toMatchObject({ allowed: true });
    // The key of a limited member is limited too.
    expect(await decide(org, { type: 'api_key', id: keyIdOf(limited.key) }, 'agents:read', { workspaceId: prod })).toMatchObject({ reason: 'workspace_not_reachable' });
  });

  test('a key or service account bound to a workspace reaches only it', async () => {
    const org = await createOrg(t);
    const prod = await workspace(org, 'production');
    const staging = await workspace(org, 'staging');
    const member = await addMember(t, org.orgId, 'member');
    await bindKey(org, member.key, staging);
    const key = { type: 'api_key' as const, id: keyIdOf(member.key) };
    expect(await decide(org, key, 'agents:read', { workspaceId: staging })).toMatchObject({ allowed: true });
    expect(await decide(org, key, 'agents:read', { workspaceId: prod })).toMatchObject({ allowed: false, reason: 'workspace_not_reachable' });
    expect(await decide(org, user(member), 'agents:read', { workspaceId: prod })).toMatchObject({ allowed: true });
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'ci', role: 'member', workspaceId: prod });
    expect(sa.status).toBe(201);
    expect(await decide(org, { type: 'service_account', id: sa.body.id }, 'agents:read', { workspaceId: prod })).toMatchObject({ allowed: true });
    expect(await decide(org, { type: 'service_account', id: sa.body.id }, 'agents:read', { workspaceId: staging })).toMatchObject({ reason: 'workspace_not_reachable' });
  });

  test('a workspace of another org, or none at all, is not found', async () => {
    const org = await createOrg(t);
    const other = await createOrg(t);
    const theirs = await workspace(other, 'production');
    for (const workspaceId of [theirs, randomUUID()]) {
      expect(await decide(org, user(org.owner), 'agents:read', { workspaceId })).toEqual({ allowed: false, reason: 'workspace_not_found', role: 'owner' });
    }
  });
});

describe('callers', () => {
  test('another org\'s credential asking about this org: 404, as every cross-org request', async () => {
    const org = await createOrg(t);
    const other = await createOrg(t);
    const res = await other.owner.api('POST', '/api/v1/authorize', { orgId: org.orgId, subject: user(org.owner), permission: 'agents:read' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('org.not_found');
  });

  test('a caller without members:read: 403, nothing changed', async () => {
    const org = await createOrg(t);
    await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/roles`, { key: 'bot', name: 'Bot', permissions: ['agents:read'] });
    const bot = await addMember(t, org.orgId, 'bot');
    await expectRefused(org, () => bot.api('POST', '/api/v1/authorize', { orgId: org.orgId, subject: user(bot), permission: 'agents:read' }), 403, 'auth.forbidden');
  });

  test('no credential: 401', async () => {
    const org = await createOrg(t);
    const res = await client(t.url)('POST', '/api/v1/authorize', { orgId: org.orgId, subject: user(org.owner), permission: 'agents:read' });
    expect(res.status).toBe(401);
  });

  test.each([
    ['no subject', { permission: 'agents:read' }, 'body.subject'],
    ['an unknown subject type', { subject: { type: 'group', id: randomUUID() }, permission: 'agents:read' }, 'body.subject.type'],
    ['a user id that is not a UUID', { subject: { type: 'user', id: 'bob' }, permission: 'agents:read' }, 'body.subject.id'],
    ['a whole API key instead of its id', { subject: { type: 'api_key', id: `gh_${'a'.repeat(16)}_${'b'.repeat(48)}` }, permission: 'agents:read' }, 'body.subject.id'],
    ['no permission', { subject: { type: 'user', id: randomUUID() } }, 'body.permission'],
    ['a workspace id that is not a UUID', { subject: { type: 'user', id: randomUUID() }, permission: 'agents:read', workspaceId: 'prod' }, 'body.workspaceId'],
    ['an unknown field', { subject: { type: 'user', id: randomUUID() }, permission: 'agents:read', resource: 'x' }, 'body'],
  ])('a bad body: %s → 400', async (_name, body, field) => {
    const org = await createOrg(t);
    const res = await org.owner.api('POST', '/api/v1/authorize', { orgId: org.orgId, ...body });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('request.invalid');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  test('a bad body without an orgId: 400', async () => {
    const org = await createOrg(t);
    const res = await org.owner.api('POST', '/api/v1/authorize', { subject: user(org.owner), permission: 'agents:read' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('body.orgId');
  });
});
