import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';

/** What decides one directory user's membership: their account, current role, and their groups' rule roles. */
export interface RoleInputs {
  userId: string;
  /** null: no membership (new, or suspended then reactivated). */
  role: string | null;
  ruleRoles: string[];
}

export interface TeamPair {
  userId: string;
  teamId: string;
}

/**
 * The memberships, roles and team memberships the directory drives, read and written in sets:
 * each statement covers every user named, so a sync costs a few statements, not a few per user.
 */
export class DirectoryMembersRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async defaultRole(directoryId: string): Promise<string | null> {
    const rows = await this.#em.execute<{ default_role: string }[]>('SELECT default_role FROM directories WHERE id = ?', [directoryId]);
    return rows[0]?.default_role ?? null;
  }

  /** For the active users named (or all of the directory's), the inputs of their role. */
  async roleInputs(directoryId: string, ids: string[] | 'all'): Promise<RoleInputs[]> {
    const which = ids === 'all' ? '' : ' AND du.id = ANY(ARRAY[?]::uuid[])';
    const rows = await this.#em.execute<{ user_id: string; role: string | null; rule_roles: string[] | string }[]>(
      `SELECT du.user_id, m.role, COALESCE(array_agg(DISTINCT r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS rule_roles
         FROM directory_users du
         LEFT JOIN memberships m ON m.org_id = du.org_id AND m.user_id = du.user_id
         LEFT JOIN directory_group_members gm ON gm.directory_user_id = du.id
         LEFT JOIN directory_group_rules r ON r.group_id = gm.group_id AND r.role IS NOT NULL
        WHERE du.directory_id = ? AND du.active${which}
        GROUP BY du.user_id, m.role`,
      ids === 'all' ? [directoryId] : [directoryId, ids],
    );
    return rows.map((r) => ({ userId: r.user_id, role: r.role, ruleRoles: pgArray(r.rule_roles) }));
  }

  /** Permission counts of the org's custom roles among `keys` (unknown keys are absent). */
  async customRoleSizes(keys: string[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const rows = await this.#em.execute<{ key: string; n: number }[]>('SELECT key, cardinality(permissions) AS n FROM roles WHERE key IN (?)', [keys]);
    return new Map(rows.map((r) => [r.key, Number(r.n)]));
  }

  /** New memberships (source scim); returns those made (a concurrent one wins). */
  async createMemberships(orgId: string, members: { userId: string; role: string }[]): Promise<{ userId: string; role: string }[]> {
    if (members.length === 0) return [];
    const rows = await this.#em.execute<{ user_id: string; role: string }[]>(
      `INSERT INTO memberships (id, org_id, user_id, role, source) VALUES ${members.map(() => `(?, ?, ?, ?, 'scim')`).join(', ')}
       ON CONFLICT (org_id, user_id) DO NOTHING RETURNING user_id, role`,
      members.flatMap((m) => [uuidv7(), orgId, m.userId, m.role]),
    );
    return rows.map((r) => ({ userId: r.user_id, role: r.role }));
  }

  /** Sets `role` for these users; never touches the owner's row. Returns those changed. */
  async setRole(userIds: string[], role: string): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#em.execute<{ user_id: string }[]>(
      `UPDATE memberships SET role = ?, updated_at = now() WHERE user_id = ANY(ARRAY[?]::uuid[]) AND role <> 'owner' AND role <> ? RETURNING user_id`,
      [role, userIds, role]);
    return rows.map((r) => r.user_id);
  }

  /** The membership's role, locked until the transaction ends; null if none. */
  async lockRole(userId: string): Promise<string | null> {
    const rows = await this.#em.execute<{ role: string }[]>('SELECT role FROM memberships WHERE user_id = ? FOR UPDATE', [userId]);
    return rows[0]?.role ?? null;
  }

  /** Deletes the membership; its team memberships go by the foreign key, so callers leave teams first (audited). */
  async deleteMembership(userId: string): Promise<{ role: string; source: string } | null> {
    const rows = await this.#em.execute<{ role: string; source: string }[]>('DELETE FROM memberships WHERE user_id = ? RETURNING role, source', [userId]);
    return rows[0] ?? null;
  }

  /** Every team a rule of this directory names (`extra`: teams of rules just deleted). */
  async ruledTeams(directoryId: string): Promise<string[]> {
    const rows = await this.#em.execute<{ team_id: string }[]>(
      'SELECT DISTINCT team_id FROM directory_group_rules WHERE directory_id = ? AND team_id IS NOT NULL', [directoryId]);
    return rows.map((r) => r.team_id);
  }

  /** The (user, team) pairs the rules ask for, for the active users named. */
  async wantedTeams(directoryId: string, ids: string[] | 'all'): Promise<TeamPair[]> {
    const which = ids === 'all' ? '' : ' AND du.id = ANY(ARRAY[?]::uuid[])';
    const rows = await this.#em.execute<{ user_id: string; team_id: string }[]>(
      `SELECT DISTINCT du.user_id, r.team_id FROM directory_users du
         JOIN directory_group_members gm ON gm.directory_user_id = du.id
         JOIN directory_group_rules r ON r.group_id = gm.group_id AND r.team_id IS NOT NULL
        WHERE du.directory_id = ? AND du.active${which}`,
      ids === 'all' ? [directoryId] : [directoryId, ids]);
    return rows.map((r) => ({ userId: r.user_id, teamId: r.team_id }));
  }

  /** Current memberships of these users in these teams. */
  async currentTeams(userIds: string[], teamIds: string[]): Promise<TeamPair[]> {
    if (userIds.length === 0 || teamIds.length === 0) return [];
    const rows = await this.#em.execute<{ user_id: string; team_id: string }[]>(
      'SELECT user_id, team_id FROM team_members WHERE user_id = ANY(ARRAY[?]::uuid[]) AND team_id = ANY(ARRAY[?]::uuid[])', [userIds, teamIds]);
    return rows.map((r) => ({ userId: r.user_id, teamId: r.team_id }));
  }

  /** Adds team memberships (role member); returns those made. */
  async addTeamMembers(orgId: string, pairs: TeamPair[]): Promise<TeamPair[]> {
    if (pairs.length === 0) return [];
    const rows = await this.#em.execute<{ user_id: string; team_id: string }[]>(
      `INSERT INTO team_members (id, org_id, team_id, user_id, role) VALUES ${pairs.map(() => `(?, ?, ?, ?, 'member')`).join(', ')}
       ON CONFLICT (team_id, user_id) DO NOTHING RETURNING user_id, team_id`,
      pairs.flatMap((p) => [uuidv7(), orgId, p.teamId, p.userId]));
    return rows.map((r) => ({ userId: r.user_id, teamId: r.team_id }));
  }

  async removeTeamMember(pair: TeamPair): Promise<{ role: string } | null> {
    const rows = await this.#em.execute<{ role: string }[]>('DELETE FROM team_members WHERE user_id = ? AND team_id = ? RETURNING role', [pair.userId, pair.teamId]);
    return rows[0] ?? null;
  }
}

/** node-postgres parses text[] into an array; other drivers may hand the literal over. */
function pgArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.slice(1, -1);
  return inner ? inner.split(',').map((s) => s.replace(/^"|"$/g, '')) : [];
}
