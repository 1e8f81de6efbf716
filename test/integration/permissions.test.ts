import { randomUUID } from 'node:crypto';
import type { Reply } from '../helpers/app.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestMember, type TestOrg } from '../helpers/factories.ts';

// The permission matrix of the built-in roles, action by action: every role is tried on every
// action; the allowed ones succeed and the rest answer 403.
type RoleName = 'owner' | 'admin' | 'member' | 'viewer';
const roles: RoleName[] = ['owner', 'admin', 'member', 'viewer'];

let t: TestApp;
let org: TestOrg;
const actors = {} as Record<RoleName, TestMember>;

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
  actors.owner = org.owner;
  for (const role of ['admin', 'member', 'viewer'] as const) actors[role] = await addMember(t, org.orgId, role);
});
afterAll(() => t.close());

const o = () => `/api/v1/orgs/${org.orgId}`;
const unique = () => randomUUID().slice(0, 8);

/** An action: what it does as `actor`, and which roles may do it. */
interface Action {
  allowed: RoleName[];
  run(actor: TestMember, role: RoleName): Promise<Reply>;
}

const matrix: Record<string, Action> = {
  'read the org': { allowed: roles, run: (a) => a.api('GET', o()) },
  'rename the org': { allowed: ['owner', 'admin'], run: (a) => a.api('PATCH', o(), { name: `Org ${unique()}` }) },
  'delete the org': {
    allowed: ['owner'],
    run: async (_a, role) => {
      const other = await createOrg(t);
      const actor = role === 'owner' ? other.owner : await addMember(t, other.orgId, role);
      return actor.api('DELETE', `/api/v1/orgs/${other.orgId}`);
    },
  },
  'transfer ownership': {
    allowed: ['owner'],
    run: async (_a, role) => {
      const other = await createOrg(t);
      const actor = role === 'owner' ? other.owner : await addMember(t, other.orgId, role);
      const heir = await addMember(t, other.orgId, 'admin');
      return actor.api('POST', `/api/v1/orgs/${other.orgId}/transfer-ownership`, { userId: heir.userId });
    },
  },
  'list members': { allowed: roles, run: (a) => a.api('GET', `${o()}/members`) },
  'change a member\'s role': {
    allowed: ['owner', 'admin'],
    run: async (a) => a.api('PATCH', `${o()}/members/${(await addMember(t, org.orgId, 'member')).userId}`, { role: 'viewer' }),
  },
  'remove a member': {
    allowed: ['owner', 'admin'],
    run: async (a) => a.api('DELETE', `${o()}/members/${(await addMember(t, org.orgId, 'viewer')).userId}`),
  },
  'invite someone': {
    allowed: ['owner', 'admin'],
    run: (a) => a.api('POST', `${o()}/invitations`, { email: `${unique()}@example.test`, role: 'member' }),
  },
  'list roles': { allowed: roles, run: (a) => a.api('GET', `${o()}/roles`) },
  'create a custom role': {
    allowed: ['owner', 'admin'],
    run: (a) => a.api('POST', `${o()}/roles`, { key: `r-${unique()}`, name: 'Support', permissions: ['org:read'] }),
  },
  'list teams': { allowed: roles, run: (a) => a.api('GET', `${o()}/teams`) },
  'create a team': { allowed: ['owner', 'admin'], run: (a) => a.api('POST', `${o()}/teams`, { name: `Team ${unique()}` }) },
  'create an own API key': {
    allowed: ['owner', 'admin', 'member'],
    run: (a) => a.api('POST', `${o()}/api-keys`, { name: 'k', role: 'viewer' }),
  },
  'list API keys': { allowed: ['owner', 'admin', 'member'], run: (a) => a.api('GET', `${o()}/api-keys`) },
  'read the audit trail': { allowed: ['owner', 'admin'], run: (a) => a.api('GET', `${o()}/audit-events`) },
  'create a service account': {
    allowed: ['owner', 'admin'],
    run: (a) => a.api('POST', `${o()}/service-accounts`, { name: 'robot', role: 'viewer' }),
  },
  // Checkout and the portal need billing on; billing.test.ts refuses them to the other roles.
  'read billing': { allowed: ['owner'], run: (a) => a.api('GET', `${o()}/billing`) },
};

const cases = Object.entries(matrix).flatMap(([name, action]) =>
  roles.map((role) => [name, role, action.allowed.includes(role)] as const));

test.each(cases)('%s as %s → allowed: %s', async (name, role, allowed) => {
  const res = await matrix[name]!.run(actors[role], role);
  if (allowed) {
    expect([200, 201, 204]).toContain(res.status);
  } else {
    expect(res.status).toBe(403);
    expect(res.body.code).toMatch(/^auth\.forbidden|above_caller$/);
  }
});

test('API key listing: owners and admins see every key, members only their own', async () => {
  for (const role of roles.filter((r) => r !== 'viewer')) {
    const res = await actors[role].api('GET', `${o()}/api-keys?limit=200`);
    const creators = new Set(res.body.data.map((k: { createdBy: string }) => k.createdBy));
    if (role === 'member') expect([...creators]).toEqual([actors.member.userId]);
    else expect(creators.size).toBeGreaterThan(1);
  }
});

test('admins never touch the owner', async () => {
  const admin = actors.admin;
  const demote = await admin.api('PATCH', `${o()}/members/${org.owner.userId}`, { role: 'viewer' });
  const remove = await admin.api('DELETE', `${o()}/members/${org.owner.userId}`);
  expect([demote.status, remove.status]).toEqual([403, 403]);
  expect(demote.body.code).toBe('member.owner_protected');
});

test('a member may leave; a viewer may not remove anyone else', async () => {
  const leaver = await addMember(t, org.orgId, 'viewer');
  const other = await addMember(t, org.orgId, 'viewer');
  expect((await leaver.api('DELETE', `${o()}/members/${other.userId}`)).status).toBe(403);
  expect((await leaver.api('DELETE', `${o()}/members/${leaver.userId}`)).status).toBe(204);
});
