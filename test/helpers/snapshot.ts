import type { TestApp } from './app.ts';

const tables = ['memberships', 'roles', 'invitations', 'teams', 'team_members', 'api_keys', 'audit_events'];

/**
 * Everything an org holds, as a comparable value: the org row, every org table's rows (as JSON,
 * ordered) and the users they point at. "Nothing changed" means two snapshots are equal.
 */
export async function snapshot(t: TestApp, orgId: string): Promise<Record<string, unknown>> {
  return t.db.inOrg(orgId, async (em) => {
    const out: Record<string, unknown> = {};
    out.organizations = await em.execute('SELECT * FROM organizations');
    for (const table of tables) {
      // last_used_at is bookkeeping of the credential making the request, not the org's data.
      out[table] = await em.execute(`SELECT to_jsonb(x) - 'last_used_at' AS row FROM ${table} x ORDER BY 1`);
    }
    out.users = await em.execute('SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id ORDER BY u.id');
    return out;
  });
}
