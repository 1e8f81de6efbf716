import { v7 as uuidv7 } from 'uuid';
import { Membership } from '../../src/modules/members/membership.entity.ts';
import { Role } from '../../src/modules/roles/role.entity.ts';
import { Team, TeamMember } from '../../src/modules/teams/team.entity.ts';
import { Invitation } from '../../src/modules/invitations/invitation.entity.ts';
import { ServiceAccount } from '../../src/modules/service-accounts/service-account.entity.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';

// Tenancy lock 4, checked in the database itself: whatever the code does, PostgreSQL shows a
// request only its own org's rows.
let t: TestApp;
let a: TestOrg;
let b: TestOrg;

async function seed(org: TestOrg): Promise<void> {
  const member = await addMember(t, org.orgId, 'member');
  await t.db.inOrg(org.orgId, async (em) => {
    em.create(Role, { id: uuidv7(), orgId: org.orgId, key: 'support', name: 'Support', permissions: ['org:read'] });
    const team = em.create(Team, { id: uuidv7(), orgId: org.orgId, name: 'Core' });
    await em.flush(); // no ORM relation between the two: write the team first
    em.create(TeamMember, { id: uuidv7(), orgId: org.orgId, teamId: team.id, userId: member.userId, role: 'admin' });
    em.create(ServiceAccount, {
      id: uuidv7(), orgId: org.orgId, name: 'robot', role: 'viewer', clientId: `sa_${uuidv7().replace(/-/g, '').slice(0, 24)}`, secret: 'sealed',
    });
    await em.execute('INSERT INTO oidc_grant_orgs (grant_id, org_id, user_id) VALUES (?, ?, ?)', [`grant-${uuidv7()}`, org.orgId, member.userId]);
    await em.execute(`INSERT INTO domains (id, org_id, domain, verification_token) VALUES (?, ?, ?, 'token')`, [uuidv7(), org.orgId, `d-${uuidv7()}.example`]);
    const connection = uuidv7();
    await em.execute(
      `INSERT INTO connections (id, org_id, type, name, preset, default_role, oidc) VALUES (?, ?, 'oidc', 'IdP', 'generic', 'member', '{}')`, [connection, org.orgId]);
    await em.execute(`INSERT INTO sso_tests (id, org_id, connection_id, return_to, expires_at) VALUES (?, ?, ?, '/admin/x', now() + interval '1 hour')`,
      [uuidv7(), org.orgId, connection]);
    const [directory, directoryUser, group] = [uuidv7(), uuidv7(), uuidv7()];
    await em.execute(`INSERT INTO directories (id, org_id, name, default_role) VALUES (?, ?, 'Okta', 'member')`, [directory, org.orgId]);
    await em.execute(
      `INSERT INTO directory_users (id, org_id, directory_id, user_id, user_name, resource) VALUES (?, ?, ?, ?, 'someone', '{}')`,
      [directoryUser, org.orgId, directory, member.userId]);
    await em.execute(`INSERT INTO directory_groups (id, org_id, directory_id, display_name) VALUES (?, ?, ?, 'Staff')`, [group, org.orgId, directory]);
    await em.execute('INSERT INTO directory_group_members (org_id, group_id, directory_user_id) VALUES (?, ?, ?)', [org.orgId, group, directoryUser]);
    await em.execute(`INSERT INTO directory_group_rules (id, org_id, directory_id, group_id, role) VALUES (?, ?, ?, ?, 'admin')`, [uuidv7(), org.orgId, directory, group]);
    const workspace = uuidv7();
    await em.execute(`INSERT INTO workspaces (id, org_id, name) VALUES (?, ?, 'Production')`, [workspace, org.orgId]);
    await em.execute('INSERT INTO workspace_members (org_id, workspace_id, user_id) VALUES (?, ?, ?)', [org.orgId, workspace, member.userId]);
    await em.execute(`INSERT INTO setup_links (id, org_id, scope, secret_hash, created_by, expires_at) VALUES (?, ?, 'sso', 'hash', ?, now() + interval '1 hour')`,
      [uuidv7().replace(/-/g, '').slice(-16), org.orgId, org.owner.userId]);
    await em.execute(`INSERT INTO org_billing (org_id, plan, status) VALUES (?, 'team', 'active')`, [org.orgId]);
    await em.execute(`INSERT INTO audit_checkpoints (org_id, seq, hash) VALUES (?, 0, repeat('0', 64))`, [org.orgId]);
    await em.execute(`INSERT INTO audit_retention_holds (org_id, held) VALUES (?, '{}')`, [org.orgId]);
    await em.execute(
      `INSERT INTO stripe_events (id, type, org_id, outcome, stripe_created_at, payload) VALUES (?, 'invoice.paid', ?, 'processed', now(), '{}')`,
      [`evt_${uuidv7().replace(/-/g, '')}`, org.orgId]);
    em.create(Invitation, {
      id: uuidv7(), orgId: org.orgId, email: `x-${uuidv7()}@example.test`, role: 'member', tokenHash: uuidv7(),
      status: 'pending', expiresAt: new Date(Date.now() + 3600_000),
    });
    await em.flush();
  });
}

beforeAll(async () => {
  t = await startApp();
  a = await createOrg(t);
  b = await createOrg(t);
  await seed(a);
  await seed(b);
});
afterAll(() => t.close());

async function orgTables(): Promise<string[]> {
  const rows = await t.db.withoutOrg((em) => em.execute<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'org_id' ORDER BY table_name`));
  return rows.map((r) => r.table_name);
}

test('every table with an org_id column (and organizations) has row-level security enabled and forced', async () => {
  const tables = [...(await orgTables()), 'organizations'];
  expect(tables).toEqual(expect.arrayContaining(['memberships', 'roles', 'invitations', 'teams', 'team_members', 'api_keys', 'audit_events', 'audit_chain_heads', 'service_accounts', 'oidc_grant_orgs', 'domains', 'connections', 'setup_links', 'sso_tests']));
  const rows = await t.db.withoutOrg((em) => em.execute<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }[]>(
    `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
      WHERE relnamespace = current_schema()::regnamespace AND relname IN (${tables.map(() => '?').join(',')})`, tables));
  expect(rows).toHaveLength(tables.length);
  for (const row of rows) expect(row).toEqual({ relname: row.relname, relrowsecurity: true, relforcerowsecurity: true });
});

test('with no org set, the request role sees zero rows in every org table', async () => {
  for (const table of [...(await orgTables()), 'organizations']) {
    const [row] = await t.db.withoutOrg((em) => em.execute<{ n: string | number }[]>(`SELECT count(*) AS n FROM ${table}`));
    expect({ table, n: Number(row!.n) }).toEqual({ table, n: 0 });
  }
});

test('with org A set, only org A\'s rows exist, in every org table', async () => {
  for (const table of await orgTables()) {
    const [row] = await t.db.inOrg(a.orgId, (em) => em.execute<{ mine: string | number; others: string | number }[]>(
      `SELECT count(*) FILTER (WHERE org_id = ?) AS mine, count(*) FILTER (WHERE org_id <> ?) AS others FROM ${table}`, [a.orgId, a.orgId]));
    expect({ table, others: Number(row!.others) }).toEqual({ table, others: 0 });
    expect(Number(row!.mine)).toBeGreaterThan(0);
  }
});

test('org A cannot write a row into org B, even naming B\'s id explicitly', async () => {
  await expect(t.db.inOrg(a.orgId, (em) => em.execute(
    `INSERT INTO roles (id, org_id, key, name, permissions) VALUES (?, ?, 'intruder', 'Intruder', '{}')`, [uuidv7(), b.orgId]))).rejects.toThrow(/row-level security/);
  const [row] = await t.db.inOrg(b.orgId, (em) => em.execute<{ n: string | number }[]>(`SELECT count(*) AS n FROM roles WHERE key = 'intruder'`));
  expect(Number(row!.n)).toBe(0);
});

test('requests run as a role that is no superuser, cannot bypass RLS and owns no table', async () => {
  const [who] = await t.db.withoutOrg((em) => em.execute<{ user: string }[]>('SELECT current_user AS user'));
  expect(who!.user).toBe('gatehouse_app');
  const [role] = await t.db.withoutOrg((em) => em.execute<{ rolsuper: boolean; rolbypassrls: boolean }[]>(
    `SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'gatehouse_app'`));
  expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
  const [owned] = await t.db.withoutOrg((em) => em.execute<{ n: string | number }[]>(
    `SELECT count(*) AS n FROM pg_tables WHERE tableowner IN ('gatehouse_app', 'gatehouse_platform')`));
  expect(Number(owned!.n)).toBe(0);
});

test('a query outside any scope still runs as the app role (fails closed)', async () => {
  const rows = await t.db.orm.em.fork().getConnection().execute<{ user: string; n: string | number }[]>(
    'SELECT current_user AS user, (SELECT count(*) FROM memberships) AS n');
  expect(rows[0]).toEqual({ user: 'gatehouse_app', n: expect.anything() });
  expect(Number(rows[0]!.n)).toBe(0);
});

test('the ORM refuses an org entity query with no org scope (tenancy lock 3)', async () => {
  await expect(t.db.withoutOrg((em) => em.find(Membership, {}))).rejects.toThrow(/org/);
});

test('the platform role reads across orgs but cannot change org data', async () => {
  const [row] = await t.db.asPlatform((em) => em.execute<{ n: string | number }[]>(
    'SELECT count(DISTINCT org_id) AS n FROM memberships WHERE org_id IN (?, ?)', [a.orgId, b.orgId]));
  expect(Number(row!.n)).toBe(2);
  await expect(t.db.asPlatform((em) => em.execute(`UPDATE memberships SET role = 'owner' WHERE org_id = ?`, [a.orgId]))).rejects.toThrow(/permission denied/);
  await expect(t.db.asPlatform((em) => em.execute('DELETE FROM audit_events'))).rejects.toThrow(/permission denied/);
});

test('the app role cannot edit or delete audit events (append-only)', async () => {
  await expect(t.db.inOrg(a.orgId, (em) => em.execute(`UPDATE audit_events SET type = 'x'`))).rejects.toThrow(/permission denied/);
  await expect(t.db.inOrg(a.orgId, (em) => em.execute('DELETE FROM audit_events'))).rejects.toThrow(/permission denied/);
});

test('on PostgreSQL the login itself can read nothing, so leaving the app role gains nothing', async () => {
  const [session] = await t.db.withoutOrg((em) => em.execute<{ rolsuper: boolean }[]>(
    'SELECT rolsuper FROM pg_roles WHERE rolname = session_user'));
  if (!process.env.TEST_DATABASE_URL) {
    // The embedded database (development only) is one PGlite session, always a superuser.
    expect(session!.rolsuper).toBe(true);
    return;
  }
  expect(session!.rolsuper).toBe(false);
  await expect(t.db.inOrg(a.orgId, async (em) => {
    await em.execute('RESET ROLE');
    return em.execute('SELECT count(*) FROM memberships');
  })).rejects.toThrow(/permission denied/);
});
