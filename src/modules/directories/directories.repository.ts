import type { EntityManager } from '@mikro-orm/sql';
import { toDate } from '../../db/rows.ts';
import { Directory } from './directory.entity.ts';

// Directories through the ORM; what the IdP pushed (directory users and groups) and the group
// rules by SQL, read by the directory-sync work too. Everything runs in the org's transaction,
// so RLS keeps it to that org whatever the ids say.

export interface DirectoryUserRow {
  id: string;
  user_name: string;
  email: string | null;
  active: boolean;
  user_id: string;
  created_at: Date;
  updated_at: Date;
}

export interface DirectoryGroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  member_count: number;
}

export interface DirectoryRuleRow {
  id: string;
  group_id: string;
  group_display_name: string;
  role: string | null;
  team_id: string | null;
  created_at: Date;
}

export interface NewRule {
  id: string;
  orgId: string;
  directoryId: string;
  groupId: string;
  role: string | null;
  teamId: string | null;
}

const ruleColumns = 'r.id, r.group_id, g.display_name AS group_display_name, r.role, r.team_id, r.created_at';

/** `AND id > ?` when there is a cursor, with its argument. */
function after(column: string, cursor: string | undefined): [string, string[]] {
  return cursor ? [` AND ${column} > ?`, [cursor]] : ['', []];
}

export class DirectoriesRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  listPage(limit: number, cursor: string | undefined): Promise<Directory[]> {
    return this.#em.find(Directory, cursor ? { id: { $gt: cursor } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  find(id: string): Promise<Directory | null> {
    return this.#em.findOne(Directory, { id });
  }

  async create(input: { id: string; orgId: string; name: string; defaultRole: string; tokenHash: string; tokenCreatedAt: Date }): Promise<Directory> {
    const row = this.#em.create(Directory, input);
    await this.#em.flush();
    return row;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  /** Its directory users, groups and rules go with it (ON DELETE CASCADE); memberships stay. */
  async remove(row: Directory): Promise<void> {
    this.#em.remove(row);
    await this.#em.flush();
  }

  async usersPage(directoryId: string, limit: number, cursor: string | undefined): Promise<DirectoryUserRow[]> {
    const [cond, args] = after('id', cursor);
    const rows = await this.#em.execute<DirectoryUserRow[]>(
      `SELECT id, user_name, email, active, user_id, created_at, updated_at FROM directory_users
        WHERE directory_id = ?${cond} ORDER BY id LIMIT ?`, [directoryId, ...args, limit + 1]);
    return rows.map((r) => ({ ...r, created_at: toDate(r.created_at), updated_at: toDate(r.updated_at) }));
  }

  groupsPage(directoryId: string, limit: number, cursor: string | undefined): Promise<DirectoryGroupRow[]> {
    const [cond, args] = after('g.id', cursor);
    return this.#em.execute<DirectoryGroupRow[]>(
      `SELECT g.id, g.display_name, g.external_id,
              (SELECT count(*) FROM directory_group_members m WHERE m.group_id = g.id)::int AS member_count
         FROM directory_groups g WHERE g.directory_id = ?${cond} ORDER BY g.id LIMIT ?`, [directoryId, ...args, limit + 1]);
  }

  async groupExists(directoryId: string, groupId: string): Promise<boolean> {
    const rows = await this.#em.execute('SELECT 1 FROM directory_groups WHERE id = ? AND directory_id = ?', [groupId, directoryId]);
    return rows.length > 0;
  }

  /** The directory users in a group: whom a rule on it concerns. */
  async groupMemberIds(groupId: string): Promise<string[]> {
    const rows = await this.#em.execute<{ id: string }[]>(
      'SELECT directory_user_id AS id FROM directory_group_members WHERE group_id = ?', [groupId]);
    return rows.map((r) => r.id);
  }

  async rulesPage(directoryId: string, limit: number, cursor: string | undefined): Promise<DirectoryRuleRow[]> {
    const [cond, args] = after('r.id', cursor);
    const rows = await this.#em.execute<DirectoryRuleRow[]>(
      `SELECT ${ruleColumns} FROM directory_group_rules r JOIN directory_groups g ON g.id = r.group_id
        WHERE r.directory_id = ?${cond} ORDER BY r.id LIMIT ?`, [directoryId, ...args, limit + 1]);
    return rows.map((r) => ({ ...r, created_at: toDate(r.created_at) }));
  }

  async findRule(directoryId: string, ruleId: string): Promise<DirectoryRuleRow | null> {
    const rows = await this.#em.execute<DirectoryRuleRow[]>(
      `SELECT ${ruleColumns} FROM directory_group_rules r JOIN directory_groups g ON g.id = r.group_id
        WHERE r.id = ? AND r.directory_id = ?`, [ruleId, directoryId]);
    const row = rows[0];
    return row ? { ...row, created_at: toDate(row.created_at) } : null;
  }

  /** The same group → role or group → team rule already there (the table's unique keys). */
  async ruleExists(groupId: string, role: string | null, teamId: string | null): Promise<boolean> {
    const rows = await this.#em.execute(
      'SELECT 1 FROM directory_group_rules WHERE group_id = ? AND (role = ? OR team_id = ?)', [groupId, role, teamId]);
    return rows.length > 0;
  }

  async insertRule(rule: NewRule): Promise<void> {
    await this.#em.execute(
      'INSERT INTO directory_group_rules (id, org_id, directory_id, group_id, role, team_id) VALUES (?, ?, ?, ?, ?, ?)',
      [rule.id, rule.orgId, rule.directoryId, rule.groupId, rule.role, rule.teamId]);
  }

  async deleteRule(ruleId: string): Promise<void> {
    await this.#em.execute('DELETE FROM directory_group_rules WHERE id = ?', [ruleId]);
  }
}
