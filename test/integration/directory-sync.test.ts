import { randomUUID } from 'node:crypto';
import { createOrganization } from '../../src/modules/orgs/orgs.service.ts';
import { DirectorySyncService } from '../../src/modules/directory-sync/directory-sync.service.ts';
import type { DirectoryContext, DirectoryFilter, FilterComparison } from '../../src/modules/directory-sync/directory-records.ts';
import { TeamsRepository } from '../../src/modules/teams/teams.repository.ts';
import { GrantOrgsRepository } from '../../src/oidc/grant-orgs.repository.ts';
import { OidcModelsRepository } from '../../src/oidc/oidc-models.repository.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { directoryFor, groupRule, scimUser } from '../helpers/directory-fixture.ts';
import { createOrg, createUser, keyFor, type TestOrg } from '../helpers/factories.ts';
import { snapshot } from '../helpers/snapshot.ts';
import { verifiedDomain } from '../helpers/sso.ts';

// The directory-sync service called directly (the SCIM edge has its own suite): linking,
// uniqueness, deprovisioning, group and team rules, refusals that change nothing, and filters
// compiled to SQL run against the real database.
let t: TestApp;
let sync: DirectorySyncService;

beforeAll(async () => {
  t = await startApp();
  sync = new DirectorySyncService({ db: t.db, plans: t.app.services });
});
afterAll(() => t.close());

const uniqueDomain = () => `corp-${randomUUID().slice(0, 8)}.example`;
const noChange = { addMembers: [], removeMembers: [], removeAllMembers: false };

const membership = (orgId: string, userId: string) =>
  t.db.inOrg(orgId, (em) => em.execute<{ role: string; source: string }[]>('SELECT role, source FROM memberships WHERE user_id = ?', [userId])).then((r) => r[0] ?? null);
const teamsOf = (orgId: string, userId: string) =>
  t.db.inOrg(orgId, (em) => em.execute<{ team_id: string }[]>('SELECT team_id FROM team_members WHERE user_id = ?', [userId])).then((r) => r.map((x) => x.team_id));
const account = (id: string) =>
  t.db.withoutOrg((em) => em.execute<{ id: string; email: string; managed_by_org_id: string | null; disabled_at: Date | null }[]>('SELECT id, email, managed_by_org_id, disabled_at FROM users WHERE id = ?', [id])).then((r) => r[0]!);
const newTeam = (orgId: string) => t.db.inOrg(orgId, (em) => new TeamsRepository(em).create({ orgId, name: `Team ${randomUUID().slice(0, 6)}`, description: null }));

async function expectNothingChanged(org: { orgId: string }, attempt: () => Promise<unknown>, status: number, code: string): Promise<void> {
  const before = await snapshot(t, org.orgId);
  await expect(attempt()).rejects.toMatchObject({ status, code });
  expect(await snapshot(t, org.orgId)).toEqual(before);
}

describe('linking and uniqueness', () => {
  test('an address in a verified domain links the person\'s own account; outside it an org-managed account, the address\'s owner elsewhere untouched', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const dir = await directoryFor(t, org.orgId, 'viewer');
    const own = await createUser(t, `alice@${domain}`);
    const linked = await sync.createUser(dir, scimUser(`Alice@${domain}`));
    expect(linked.userId).toBe(own.id);
    expect(await membership(org.orgId, own.id)).toEqual({ role: 'viewer', source: 'scim' });

    const victim = await createUser(t, `victim-${randomUUID().slice(0, 6)}@elsewhere.example`);
    const managed = await sync.createUser(dir, scimUser(victim.email));
    expect(managed.userId).not.toBe(victim.id);
    expect(await account(managed.userId)).toMatchObject({ email: victim.email, managed_by_org_id: org.orgId });
    expect(await account(victim.id)).toMatchObject({ managed_by_org_id: null, disabled_at: null });
    expect(await membership(org.orgId, victim.id)).toBeNull();

    const events = await t.db.inOrg(org.orgId, (em) => em.execute<{ actor_type: string; actor_id: string }[]>(
      `SELECT actor_type, actor_id FROM audit_events WHERE type = 'directory.user_created'`));
    expect(events).toEqual([{ actor_type: 'directory', actor_id: dir.directoryId }, { actor_type: 'directory', actor_id: dir.directoryId }]);
  });

  test('a duplicate userName in any case, or a second link to one account, is 409 scim.uniqueness and changes nothing', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const email = `bob-${randomUUID().slice(0, 6)}@x.example`;
    await sync.createUser(dir, scimUser(email, { userName: `Bob.${email}` }));
    await expectNothingChanged(org, () => sync.createUser(dir, scimUser(`other-${email}`, { userName: `BOB.${email.toUpperCase()}` })), 409, 'scim.uniqueness');
    const second = await directoryFor(t, org.orgId);
    await expectNothingChanged(org, () => sync.createUser(second, scimUser(email, { userName: 'someone-else' })), 409, 'scim.uniqueness');
    await expectNothingChanged(org, () => sync.createUser(dir, scimUser('x@y.example', { userName: 'no-address', email: null })), 400, 'scim.invalid_value');
  });

  test('a stale version is 412 and changes nothing; an unknown id is 404', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const user = await sync.createUser(dir, scimUser(`v-${randomUUID().slice(0, 6)}@x.example`));
    const updated = await sync.replaceUser(dir, user.id, scimUser(user.email!, { displayName: 'Renamed' }), 1);
    expect(updated.version).toBe(2);
    await expectNothingChanged(org, () => sync.replaceUser(dir, user.id, scimUser(user.email!, { displayName: 'Again' }), 1), 412, 'scim.precondition_failed');
    await expectNothingChanged(org, () => sync.deleteUser(dir, user.id, 1), 412, 'scim.precondition_failed');
    await expect(sync.getUser(dir, randomUUID())).rejects.toMatchObject({ status: 404 });
    await expect(sync.getUser(dir, 'not-a-uuid')).rejects.toMatchObject({ status: 404 });
  });
});

describe('deprovisioning', () => {
  async function withAccess(org: TestOrg, dir: DirectoryContext) {
    const user = await sync.createUser(dir, scimUser(`carol-${randomUUID().slice(0, 6)}@outside.example`));
    await keyFor(t, org.orgId, user.userId, 'member');
    const grantId = `grant-${randomUUID()}`;
    await t.db.inOrg(org.orgId, async (em) => {
      const models = new OidcModelsRepository(em);
      await models.upsert('Grant', grantId, { accountId: user.userId }, 3600);
      await models.upsert('RefreshToken', `rt-${grantId}`, { grantId, accountId: user.userId }, 3600);
      await models.upsert('Session', `session-${grantId}`, { accountId: user.userId }, 3600);
      await new GrantOrgsRepository(em).set(grantId, org.orgId, user.userId);
    });
    return { user, grantId };
  }
  const oidcRows = (userId: string) => t.db.withoutOrg((em) => em.execute<{ model: string }[]>('SELECT model FROM oidc_models WHERE account_id = ? ORDER BY model', [userId])).then((r) => r.map((x) => x.model));
  const liveKeys = (orgId: string, userId: string) => t.db.inOrg(orgId, (em) => em.execute('SELECT id FROM api_keys WHERE created_by = ? AND revoked_at IS NULL', [userId]));

  test('active false revokes at once (membership, teams, API keys, grants and refresh tokens, a managed account\'s sessions); active true restores the role the groups give', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const { user } = await withAccess(org, dir);
    const team = await newTeam(org.orgId);
    const group = await sync.createGroup(dir, { displayName: 'Admins', externalId: null }, []);
    await groupRule(t, dir, group.id, { role: 'admin' });
    await groupRule(t, dir, group.id, { teamId: team.id });
    await sync.patchGroup(dir, group.id, { ...noChange, addMembers: [user.id] });
    expect(await membership(org.orgId, user.userId)).toEqual({ role: 'admin', source: 'scim' });
    expect(await oidcRows(user.userId)).toEqual(['Grant', 'RefreshToken', 'Session']);

    const suspended = await sync.replaceUser(dir, user.id, { ...user, active: false });
    expect(suspended.active).toBe(false);
    expect(await membership(org.orgId, user.userId)).toBeNull();
    expect(await teamsOf(org.orgId, user.userId)).toEqual([]);
    expect(await liveKeys(org.orgId, user.userId)).toEqual([]);
    expect(await oidcRows(user.userId)).toEqual([]);
    expect(await t.db.inOrg(org.orgId, (em) => new GrantOrgsRepository(em).grantsOf(user.userId))).toEqual([]);

    await sync.replaceUser(dir, user.id, { ...user, active: true });
    expect(await membership(org.orgId, user.userId)).toEqual({ role: 'admin', source: 'scim' });
    expect(await teamsOf(org.orgId, user.userId)).toEqual([team.id]);
    const types = await t.db.inOrg(org.orgId, (em) => em.execute<{ type: string }[]>(
      `SELECT type FROM audit_events WHERE actor_type = 'directory' AND type IN ('directory.user_suspended', 'directory.user_restored', 'member.removed', 'api_key.revoked', 'oidc.grants_revoked') ORDER BY seq`));
    expect(types.map((r) => r.type)).toEqual(['member.removed', 'api_key.revoked', 'oidc.grants_revoked', 'directory.user_suspended', 'directory.user_restored']);
  });

  test('the org\'s owner can be neither suspended nor deleted by the directory: 400 scim.mutability, nothing changed', async () => {
    const domain = uniqueDomain();
    const boss = await createUser(t, `boss@${domain}`);
    const { org } = await createOrganization(t.db, { name: `Boss ${randomUUID().slice(0, 6)}`, owner: { userId: boss.id, source: 'bootstrap' }, principal: null, meta: { ip: null, userAgent: null, requestId: null } });
    await verifiedDomain(t, org.id, domain);
    const dir = await directoryFor(t, org.id);
    const linked = await sync.createUser(dir, scimUser(boss.email));
    expect(linked.userId).toBe(boss.id);
    expect((await membership(org.id, boss.id))?.role).toBe('owner');
    await expectNothingChanged({ orgId: org.id }, () => sync.replaceUser(dir, linked.id, { ...linked, active: false }), 400, 'scim.mutability');
    await expectNothingChanged({ orgId: org.id }, () => sync.deleteUser(dir, linked.id), 400, 'scim.mutability');
  });

  test('DELETE removes the user from every group, ends the membership, and disables an org-managed account', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const { user } = await withAccess(org, dir);
    const groups = await Promise.all(['One', 'Two'].map((displayName) => sync.createGroup(dir, { displayName, externalId: null }, [user.id])));
    await sync.deleteUser(dir, user.id);
    for (const g of groups) expect((await sync.getGroup(dir, g.id, { members: true })).members).toEqual([]);
    expect(await membership(org.orgId, user.userId)).toBeNull();
    expect(await oidcRows(user.userId)).toEqual([]);
    expect((await account(user.userId)).disabled_at).not.toBeNull();
    await expect(sync.getUser(dir, user.id)).rejects.toMatchObject({ status: 404 });
  });

  test('an IdP that provisions the deleted managed account again enables it again', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const { user } = await withAccess(org, dir);
    await sync.deleteUser(dir, user.id);
    const again = await sync.createUser(dir, scimUser((await account(user.userId)).email));
    expect(again.userId).toBe(user.userId);
    expect((await account(user.userId)).disabled_at).toBeNull();
    expect(await membership(org.orgId, user.userId)).toEqual({ role: 'member', source: 'scim' });
  });

  test('a PUT that leaves active out keeps a suspended person suspended', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const { user } = await withAccess(org, dir);
    const suspended = await sync.replaceUser(dir, user.id, { ...user, active: false });
    const kept = await sync.replaceUser(dir, user.id, { ...user, displayName: 'Renamed', active: undefined }, suspended.version);
    expect(kept).toMatchObject({ active: false, displayName: 'Renamed' });
    expect(await membership(org.orgId, user.userId)).toBeNull();
  });

  test('a person pushed as inactive loses the membership they already had', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const dir = await directoryFor(t, org.orgId);
    const own = await createUser(t, `dana@${domain}`);
    await t.db.inOrg(org.orgId, (em) => em.execute(
      `INSERT INTO memberships (id, org_id, user_id, role, source) VALUES (gen_random_uuid(), ?, ?, 'admin', 'invite')`, [org.orgId, own.id]));
    await sync.createUser(dir, scimUser(own.email, { active: false }));
    expect(await membership(org.orgId, own.id)).toBeNull();
  });
});

describe('groups, rules and teams', () => {
  test('the highest role of the default and the group rules wins, recomputed as members are added and removed', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId, 'member');
    const user = await sync.createUser(dir, scimUser(`dave-${randomUUID().slice(0, 6)}@x.example`));
    const viewers = await sync.createGroup(dir, { displayName: 'Viewers', externalId: null }, []);
    const admins = await sync.createGroup(dir, { displayName: 'Admins', externalId: null }, []);
    await groupRule(t, dir, viewers.id, { role: 'viewer' });
    await groupRule(t, dir, admins.id, { role: 'admin' });
    await sync.patchGroup(dir, viewers.id, { ...noChange, addMembers: [user.id] });
    expect((await membership(org.orgId, user.userId))?.role).toBe('member');
    await sync.patchGroup(dir, admins.id, { ...noChange, addMembers: [user.id] });
    expect((await membership(org.orgId, user.userId))?.role).toBe('admin');
    await sync.patchGroup(dir, admins.id, { ...noChange, removeMembers: [user.id] });
    expect((await membership(org.orgId, user.userId))?.role).toBe('member');
    await sync.replaceGroup(dir, admins.id, { displayName: 'Admins (renamed)', externalId: null }, [user.id]);
    expect((await membership(org.orgId, user.userId))?.role).toBe('admin');
    await sync.deleteGroup(dir, admins.id);
    expect((await membership(org.orgId, user.userId))?.role).toBe('member');
    const changes = await t.db.inOrg(org.orgId, (em) => em.execute<{ before: any; after: any }[]>(
      `SELECT before, after FROM audit_events WHERE type = 'member.role_changed' ORDER BY seq`));
    expect(changes.map((c) => [c.before.role, c.after.role])).toEqual([['member', 'admin'], ['admin', 'member'], ['member', 'admin'], ['admin', 'member']]);
  });

  test('a team rule makes the group\'s members team members, and only them', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const [a, b] = await Promise.all(['erin', 'finn'].map((n) => sync.createUser(dir, scimUser(`${n}-${randomUUID().slice(0, 6)}@x.example`))));
    const team = await newTeam(org.orgId);
    const group = await sync.createGroup(dir, { displayName: 'Engineering', externalId: 'eng' }, []);
    await groupRule(t, dir, group.id, { teamId: team.id });
    await sync.patchGroup(dir, group.id, { ...noChange, addMembers: [a!.id, b!.id] });
    expect(await teamsOf(org.orgId, a!.userId)).toEqual([team.id]);
    await sync.patchGroup(dir, group.id, { ...noChange, removeAllMembers: true, addMembers: [b!.id] });
    expect(await teamsOf(org.orgId, a!.userId)).toEqual([]);
    expect(await teamsOf(org.orgId, b!.userId)).toEqual([team.id]);
    const changed = await t.db.inOrg(org.orgId, (em) => em.execute<{ after: any }[]>(`SELECT after FROM audit_events WHERE type = 'directory.group_members_changed' ORDER BY seq`));
    expect(changed.map((c) => c.after)[1]).toEqual({ added: [], removed: [a!.id] });
    await sync.deleteGroup(dir, group.id);
    expect(await teamsOf(org.orgId, b!.userId)).toEqual([]);
  });

  test('a member id that is not a user of this directory is refused by name, and nothing changes', async () => {
    const org = await createOrg(t);
    const dir = await directoryFor(t, org.orgId);
    const other = await directoryFor(t, org.orgId);
    const mine = await sync.createUser(dir, scimUser(`gail-${randomUUID().slice(0, 6)}@x.example`));
    const theirs = await sync.createUser(other, scimUser(`hank-${randomUUID().slice(0, 6)}@x.example`));
    const group = await sync.createGroup(dir, { displayName: 'G', externalId: null }, [mine.id]);
    for (const bad of [theirs.id, randomUUID(), 'not-a-uuid']) {
      await expectNothingChanged(org, () => sync.patchGroup(dir, group.id, { ...noChange, removeAllMembers: true, addMembers: [bad] }), 400, 'scim.invalid_value');
      await expectNothingChanged(org, () => sync.createGroup(dir, { displayName: 'H', externalId: null }, [mine.id, bad]), 400, 'scim.invalid_value');
    }
    await expect(sync.patchGroup(dir, group.id, { ...noChange, addMembers: ['nobody'] })).rejects.toThrow('"nobody" is not a user of this directory.');
  });
});

describe('filters and pages, against the database', () => {
  const cmp = (path: string, op: FilterComparison['op'], value?: FilterComparison['value'], extra: Partial<FilterComparison> = {}): FilterComparison =>
    ({ path, op, value, not: false, type: typeof value === 'boolean' ? 'boolean' : 'string', caseExact: false, ...extra });
  let dir: DirectoryContext;
  const tag = randomUUID().slice(0, 6);
  const names = ['ann', 'ben', 'cy_d', 'dee%'].map((n) => `${n}.${tag}@filter.example`);
  let ids: Record<string, string>;

  beforeAll(async () => {
    const org = await createOrg(t);
    dir = await directoryFor(t, org.orgId);
    ids = {};
    for (const [i, email] of names.entries()) {
      const enterprise = { employeeNumber: String(100 + i), manager: { value: i === 0 ? null : 'boss-1' } };
      const user = await sync.createUser(dir, scimUser(email, {
        active: i !== 3, externalId: `ext-${i}`, displayName: i === 2 ? null : `Person ${i}`,
        resource: { userName: email, title: i === 1 ? 'Engineer' : undefined, emails: [{ value: email, type: i === 1 ? 'home' : 'work' }], 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': enterprise },
      }));
      ids[email.split('.')[0]!] = user.id;
    }
    await sync.createGroup(dir, { displayName: 'Filtered', externalId: null }, [ids.ann!, ids.ben!]);
  });

  async function matches(filter: DirectoryFilter): Promise<string[]> {
    const page = await sync.listUsers(dir, { filter, startIndex: 1, count: 100 }, { groups: false });
    return page.items.map((i) => i.user.userName.split('.')[0]!).sort();
  }
  const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

  test.each<[string, DirectoryFilter, string[]]>([
    ['eq on userName, case-insensitive', [[cmp('userName', 'eq', names[0]!.toUpperCase())]], ['ann']],
    ['ne', [[cmp('externalId', 'ne', 'ext-0', { caseExact: true })]], ['ben', 'cy_d', 'dee%']],
    ['co with a LIKE metacharacter taken literally', [[cmp('userName', 'co', '_d')]], ['cy_d']],
    ['sw', [[cmp('userName', 'sw', 'DEE%')]], ['dee%']],
    ['ew', [[cmp('userName', 'ew', `${tag}@FILTER.example`)]], ['ann', 'ben', 'cy_d', 'dee%']],
    ['gt / le on a string', [[cmp('userName', 'gt', 'b'), cmp('userName', 'le', 'cz')]], ['ben', 'cy_d']],
    ['ge / lt on meta.created', [[cmp('meta.created', 'ge', '2000-01-01T00:00:00Z', { type: 'dateTime' }), cmp('meta.created', 'lt', '2999-01-01T00:00:00Z', { type: 'dateTime' })]], ['ann', 'ben', 'cy_d', 'dee%']],
    ['pr, and not', [[cmp('displayName', 'pr', undefined, { not: true })]], ['cy_d']],
    ['eq on a boolean, or', [[cmp('active', 'eq', false)], [cmp('userName', 'sw', 'ann')]], ['ann', 'dee%']],
    ['emails[type eq "work"].value', [[{ multiValued: 'emails', conditions: [cmp('type', 'eq', 'work'), cmp('value', 'eq', names[1]!)] }]], []],
    ['emails.value eq (containment)', [[cmp('emails.value', 'eq', names[1]!.toUpperCase())]], ['ben']],
    ['groups.value', [[{ multiValued: 'groups', conditions: [cmp('value', 'pr')] }]], ['ann', 'ben']],
    ['a resource attribute (title)', [[cmp('title', 'eq', 'engineer')]], ['ben']],
    ['the enterprise extension', [[cmp(`${ent}:employeeNumber`, 'eq', '102', { caseExact: true })]], ['cy_d']],
    ['the enterprise manager.value, pr', [[cmp(`${ent}:manager.value`, 'pr')]], ['ben', 'cy_d', 'dee%']],
  ])('%s', async (_name, filter, expected) => {
    expect(await matches(filter)).toEqual(expected);
  });

  test('groups filter on displayName and members.value', async () => {
    const page = await sync.listGroups(dir, { filter: [[cmp('displayName', 'eq', 'filtered'), { multiValued: 'members', conditions: [cmp('value', 'eq', ids.ben!)] }]], startIndex: 1, count: 10 }, { members: true });
    expect(page.totalResults).toBe(1);
    expect(page.items[0]!.members!.map((m) => m.id).sort()).toEqual([ids.ann!, ids.ben!].sort());
  });

  test('pages are in id order with the total of every match', async () => {
    const first = await sync.listUsers(dir, { filter: null, startIndex: 1, count: 3 }, { groups: true });
    const rest = await sync.listUsers(dir, { filter: null, startIndex: 4, count: 3 }, { groups: false });
    const none = await sync.listUsers(dir, { filter: null, startIndex: 1, count: 0 }, { groups: false });
    expect([first.totalResults, rest.totalResults, none.totalResults]).toEqual([4, 4, 4]);
    expect([first.items.length, rest.items.length, none.items.length]).toEqual([3, 1, 0]);
    expect([...first.items, ...rest.items].map((i) => i.user.id)).toEqual(Object.values(ids).sort());
    expect(first.items[0]!.groups!.map((g) => g.displayName)).toEqual(['Filtered']);
  });
});
