import type { TestApp } from './app.ts';

const tables = ['memberships', 'roles', 'invitations', 'teams', 'team_members', 'api_keys', 'service_accounts', 'domains', 'connections', 'directories', 'directory_users', 'directory_groups',
  'directory_group_members', 'directory_group_rules', 'workspaces', 'workspace_members', 'setup_links', 'audit_events'];

/**
 * Everything an org holds, as a comparable value: the org row, every org table's rows (as JSON,
 * ordered) and the users they point at. "Nothing changed" means two snapshots are equal.
 */
export async function snapshot(t: TestApp, orgId: string): Promise<Record<string, unknown>> {
  return t.db.inOrg(orgId, async (em) => {
    const out: Record<string, unknown> = {};
    out.organizations = await em.execute('SELECT * FROM organizations');
    for (const table of tables) {
      // last_used_at and usage_count are bookkeeping of the credential making the request (written
      // in batches, whenever a flush lands), not the org's data.
      out[table] = await em.execute(`SELECT to_jsonb(x) - 'last_used_at' - 'usage_count' AS row FROM ${table} x ORDER BY 1`);
    }
    out.users = await em.execute('SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id ORDER BY u.id');
    return out;
  });
}

type Answer = { status: number; body: any };

/**
 * `expectRefused(org, request, status, code)` for one test file's app: asserts the answer and
 * that everything the org holds is exactly as before the request.
 */
export function refusalsOf(app: () => TestApp) {
  return async function expectRefused(org: { orgId: string }, request: () => Promise<Answer>, status: number, code: string): Promise<Answer> {
    const before = await snapshot(app(), org.orgId);
    const res = await request();
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(await snapshot(app(), org.orgId)).toEqual(before);
    return res;
  };
}

/** An org's audit events of one type, oldest first. */
export function auditEventsOf(t: TestApp, orgId: string, type: string) {
  return t.db.inOrg(orgId, (em) =>
    em.execute<{ target_id: string; before: any; after: any }[]>(
      'SELECT target_id, before, after FROM audit_events WHERE type = ? ORDER BY seq', [type]));
}
